-- Every measure a benefit can point at, per county, scope (all, rural, urban districts) and
-- financial year, in the unit the benefits register uses. Money measures also carry their value
-- divided by the year's GDP deflator (value_per_deflator_point), so realisation can restate them
-- at any price base year; cumulative measures add up each year's real value.
--
-- Each row also says how far its evidence runs (data_through_date), so a year in progress is
-- never judged as if it were whole. An incident measure's data runs, in a county, to the latest
-- day of its service's incidents there (every category: a month without a cardiac arrest is not
-- the end of the ambulance service's data), or of its own incidents if later, and no further
-- than the year's end. An estate measure comes from an annual return, which covers its whole
-- year.
with

incident_days as (
    select * from {{ ref('int_incident_measures_daily') }}
),

service_days as (
    select * from {{ ref('int_incident_days') }}
),

estates as (
    select * from {{ ref('stg_agency__estates') }}
),

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

-- The service whose incidents each incident measure reads (int_incident_measures): call handling
-- is the fire service's; cardiac arrest is a category of the ambulance service's scheme.
measure_services as (
    select
        named.measure,
        named.service
    from (
        values
        ('fire_call_handling_mean_seconds', 'fire'),
        ('cardiac_arrest_response_mean_minutes', 'ambulance')
    ) as named (measure, service)
),

service_coverage as (
    select
        service,
        county,
        max(call_date) as last_call_date
    from service_days
    group by service, county
),

-- The later of the service's latest day and the measure's own (a category another service
-- records too still has its own incidents' days).
measure_coverage as (
    select
        incident_days.measure,
        incident_days.county,
        greatest(max(incident_days.call_date), any_value(service_coverage.last_call_date))
            as last_call_date
    from incident_days
    left join measure_services on incident_days.measure = measure_services.measure
    left join service_coverage
        on
            measure_services.service = service_coverage.service
            and incident_days.county = service_coverage.county
    group by incident_days.measure, incident_days.county
),

incident_days_scoped as (
    select
        *,
        'all' as scope
    from incident_days
    union all
    select
        *,
        rural_urban as scope
    from incident_days
),

incident_yearly as (
    select
        measure,
        county,
        scope,
        financial_year,
        sum(value_sum) / sum(observations) as measure_value,
        sum(value_sum) / sum(observations) as value_per_deflator_point,
        cast(sum(observations) as bigint) as observations
    from incident_days_scoped
    group by measure, county, scope, financial_year
),

incident_measures as (
    select
        incident_yearly.measure,
        incident_yearly.county,
        incident_yearly.scope,
        incident_yearly.financial_year,
        incident_yearly.measure_value,
        incident_yearly.value_per_deflator_point,
        incident_yearly.observations,
        'incidents' as measured_from,
        {{ financial_year_end('incident_yearly.financial_year') }} as period_end_date,
        least(
            measure_coverage.last_call_date, {{ financial_year_end('incident_yearly.financial_year') }}
        ) as data_through_date
    from incident_yearly
    inner join measure_coverage
        on
            incident_yearly.measure = measure_coverage.measure
            and incident_yearly.county = measure_coverage.county
),

estate_with_area as (
    select
        estates.*,
        districts.county,
        districts.rural_urban
    from estates
    inner join districts on estates.district_code = districts.district_code
),

estate_scoped as (
    select
        *,
        'all' as scope
    from estate_with_area
    union all
    select
        *,
        rural_urban as scope
    from estate_with_area
),

estate_yearly as (
    select
        estate_scoped.county,
        estate_scoped.scope,
        estate_scoped.financial_year,
        any_value(deflators.deflator_index) as deflator_index,
        sum(case when estate_scoped.service = 'police' then estate_scoped.running_cost_gbp else 0 end)
            as police_running_cost_gbp,
        sum(estate_scoped.capital_receipt_gbp) as capital_receipts_gbp,
        count(*) as observations
    from estate_scoped
    inner join deflators on estate_scoped.financial_year = deflators.financial_year
    group by estate_scoped.county, estate_scoped.scope, estate_scoped.financial_year
),

estate_measures as (
    select
        'police_estate_running_cost_gbp' as measure,
        county,
        scope,
        financial_year,
        police_running_cost_gbp as measure_value,
        police_running_cost_gbp / deflator_index as value_per_deflator_point,
        observations,
        'annual_return' as measured_from,
        {{ financial_year_end('financial_year') }} as period_end_date,
        {{ financial_year_end('financial_year') }} as data_through_date
    from estate_yearly

    union all

    select
        'capital_receipts_cumulative_gbp' as measure,
        county,
        scope,
        financial_year,
        sum(capital_receipts_gbp) over (
            partition by county, scope order by financial_year
        ) as measure_value,
        sum(capital_receipts_gbp / deflator_index) over (
            partition by county, scope order by financial_year
        ) as value_per_deflator_point,
        observations,
        'annual_return' as measured_from,
        {{ financial_year_end('financial_year') }} as period_end_date,
        {{ financial_year_end('financial_year') }} as data_through_date
    from estate_yearly
),

final as (
    select * from incident_measures
    union all
    select * from estate_measures
)

select * from final
