-- Every measure a benefit can point at, per county, scope (all, rural, urban districts) and
-- financial year, in the unit the benefits register uses. Money measures also carry their value
-- divided by the year's GDP deflator (value_per_deflator_point), so realisation can restate them
-- at any price base year; cumulative measures add up each year's real value.
with

incident_days as (
    select * from {{ ref('int_incident_measures_daily') }}
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

incident_measures as (
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
        observations
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
        observations
    from estate_yearly
),

final as (
    select * from incident_measures
    union all
    select * from estate_measures
)

select * from final
