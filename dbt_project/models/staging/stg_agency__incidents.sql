-- Incremental: a run takes only the loads that arrived since the last build (the bookmark is
-- the newest _load_id already here: load ids rise with time), and a newer version of an incident
-- replaces the older one by key. `bluelight run --full-refresh` rebuilds it from every accepted
-- row.
{{ config(
    materialized='incremental',
    unique_key=['service', 'incident_id'],
    incremental_strategy='delete+insert',
) }}

with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'incidents') }}
    {%- if is_incremental() %}
        where {{ loaded_since_bookmark() }}
    {%- endif %}
),

latest as (
    select
        incident_id,
        service,
        incident_category,
        district_code,
        call_time as call_at,
        mobilised_time as mobilised_at,
        mobile_time as mobile_at,
        first_arrival_time as first_arrival_at,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['service', 'incident_id']) }}
),

final as (
    select
        *,
        cast(date_trunc('month', call_at) as date) as call_month,
        date_diff('second', call_at, first_arrival_at) as response_seconds,
        date_diff('second', call_at, mobilised_at) as call_handling_seconds,
        date_diff('second', mobilised_at, mobile_at) as turnout_seconds,
        date_diff('second', mobile_at, first_arrival_at) as drive_seconds
    from latest
)

select * from final
