-- Response time (call to first arrival) per service, area, incident category and month, for
-- each district and for each county as a whole; incident_category 'all' covers every category.
-- Percentiles are continuous (linear interpolation between the two nearest incidents).
-- Ambulance times are per category only: the ARP categories run different clocks (seed
-- response_standards, clock_rule), so a time across them means nothing. Ambulance 'all' rows
-- carry the incidents and call handling, and null response times.
--
-- Incremental by month: a run recomputes every month an incident loaded since the last build
-- falls in, or fell in before a newer version moved it (macros/touched_incident_periods.sql),
-- and leaves the other months as they were. `bluelight run --full-refresh` rebuilds it.
{{ config(
    materialized='incremental',
    unique_key='month',
    incremental_strategy='delete+insert',
    pre_hook="{{ delete_touched_incident_periods('month', 'month') }}",
) }}

with

incidents as (
    select * from {{ ref('int_incidents__with_area') }}
    {%- if is_incremental() %}
        where {{ touched_incident_periods('call_month', 'month') }}
    {%- endif %}
),

standards as (
    select * from {{ ref('response_standards') }}
),

incidents_against_standard as (
    select
        incidents.*,
        incidents.response_seconds <= standards.standard_minutes * 60 as is_within_standard
    from incidents
    left join standards
        on
            incidents.service = standards.service
            and incidents.incident_category = standards.incident_category
),

aggregated as (
    select
        service,
        call_month as month,
        county,
        district_code,
        incident_category,
        grouping(district_code) as is_county_total,
        grouping(incident_category) as is_all_categories,
        count(*) as incidents,
        avg(response_seconds) / 60.0 as mean_response_minutes,
        -- Both percentiles from one list of the values, held as 4-byte integers: with one list
        -- per percentile, of 8-byte values, 145 million incidents took 15 GB.
        quantile_cont(cast(response_seconds as integer), [0.5, 0.9]) as response_percentiles,
        avg(call_handling_seconds) as mean_call_handling_seconds,
        avg(turnout_seconds) as mean_turnout_seconds,
        avg(drive_seconds) as mean_drive_seconds,
        avg(cast(is_within_standard as integer)) as share_within_standard,
        max(_load_id) as last_load_id
    from incidents_against_standard
    group by grouping sets (
        (service, call_month, county, incident_category),
        (service, call_month, county, district_code, incident_category),
        (service, call_month, county),
        (service, call_month, county, district_code)
    )
),

clocked as (
    select
        *,
        service != 'ambulance' or is_all_categories = 0 as is_one_clock
    from aggregated
),

final as (
    select
        service,
        month,
        case when is_county_total = 1 then 'county' else 'district' end as area_type,
        coalesce(district_code, county) as area_code,
        county,
        coalesce(incident_category, 'all') as incident_category,
        incidents,
        case when is_one_clock then mean_response_minutes end as mean_response_minutes,
        case when is_one_clock then response_percentiles[1] / 60.0 end as median_response_minutes,
        case when is_one_clock then response_percentiles[2] / 60.0 end as p90_response_minutes,
        mean_call_handling_seconds,
        mean_turnout_seconds,
        mean_drive_seconds,
        case when is_one_clock then share_within_standard end as share_within_standard,
        last_load_id
    from clocked
)

select * from final
