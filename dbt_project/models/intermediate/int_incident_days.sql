-- Each service's incidents per county and day of the call: how far each service's data runs in
-- a county, which says whether a financial year's evidence is complete (int_benefit_measures'
-- data_through_date). Every incident counts, whatever its category: a quiet spell with no
-- cardiac arrests is not the end of the ambulance service's data.
--
-- Incremental by day, like int_incident_measures_daily: a run recomputes every day an incident
-- loaded since the last build falls in, or fell in before a newer version moved it
-- (macros/touched_incident_periods.sql), so a night reads its own days, not every incident.
{{ config(
    materialized='incremental',
    unique_key='call_date',
    incremental_strategy='delete+insert',
    pre_hook="{{ delete_touched_incident_periods('call_date', 'day') }}",
) }}

with

incidents as (
    select * from {{ ref('int_incidents__with_area') }}
    {%- if is_incremental() %}
        where {{ touched_incident_periods('call_at', 'day') }}
    {%- endif %}
),

final as (
    select
        service,
        county,
        cast(call_at as date) as call_date,
        count(*) as incidents,
        max(_load_id) as last_load_id
    from incidents
    group by service, county, call_date
)

select * from final
