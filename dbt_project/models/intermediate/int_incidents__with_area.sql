-- Incremental, like its staging model: only incidents loaded since the last build are joined.
{{ config(
    materialized='incremental',
    unique_key=['service', 'incident_id'],
    incremental_strategy='delete+insert',
) }}

with

incidents as (
    select * from {{ ref('stg_agency__incidents') }}
    {%- if is_incremental() %}
        where _load_id > {{ load_bookmark() }}
    {%- endif %}
),

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

joined as (
    select
        incidents.incident_id,
        incidents.service,
        incidents.incident_category,
        incidents.district_code,
        districts.county,
        districts.rural_urban,
        incidents.call_at,
        incidents.call_month,
        {{ financial_year('incidents.call_at') }} as financial_year,
        incidents.response_seconds,
        incidents.call_handling_seconds,
        incidents.turnout_seconds,
        incidents.drive_seconds,
        incidents._load_id,
        incidents._source_file,
        incidents._source_row
    from incidents
    inner join districts on incidents.district_code = districts.district_code
)

select * from joined
