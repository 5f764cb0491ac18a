-- The unit-level panel of each benefit's counterfactual (fct_benefit_counterfactual): each of its
-- units (int_benefit_units: districts or police sites, treated or comparison) per financial year
-- from the benefit's baseline_period on, with the unit's value that year, its value in the
-- baseline year and the change between them:
--   unit_change = unit_value(year) - unit_value(baseline_period)
-- A district's value is the mean of its incidents' values that year, from the daily sums
-- (int_incident_measures_daily); a police site's is its running cost that year in real terms at
-- the benefit's price base year (cash / deflator(year) * deflator(price base year)), 0 after it
-- left the return (int_police_estate_site_years). A unit with no value in the baseline year has
-- no change to measure and is left out: a district with no incidents that year, a site not in
-- that year's return (one opened since, or gone before).
with

benefits as (
    select * from {{ ref('stg_agency__benefits_register') }}
),

units as (
    select * from {{ ref('int_benefit_units') }}
),

incident_days as (
    select * from {{ ref('int_incident_measures_daily') }}
),

site_years as (
    select * from {{ ref('int_police_estate_site_years') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

district_years as (
    select
        measure,
        district_code as unit_id,
        financial_year,
        sum(value_sum) / sum(observations) as unit_value,
        cast(sum(observations) as bigint) as observations,
        true as in_return
    from incident_days
    group by measure, district_code, financial_year
),

-- Each site-year restated at every price base year a benefit uses.
site_values as (
    select
        'police_estate_running_cost_gbp' as measure,
        site_years.site_id as unit_id,
        site_years.financial_year,
        base.financial_year as price_base_year,
        site_years.cost_per_deflator_point * base.deflator_index as unit_value,
        cast(1 as bigint) as observations,
        site_years.in_return
    from site_years
    cross join deflators as base
    where base.financial_year in (select benefits.price_base_year from benefits)
),

unit_values as (
    select
        measure,
        unit_id,
        financial_year,
        cast(null as varchar) as price_base_year,  -- incident measures have no price base
        unit_value,
        observations,
        in_return
    from district_years
    union all
    select
        measure,
        unit_id,
        financial_year,
        price_base_year,
        unit_value,
        observations,
        in_return
    from site_values
),

unit_years as (
    select
        units.benefit_id,
        units.measure,
        units.unit_type,
        units.unit_id,
        units.county,
        units.rural_urban,
        units.arm,
        benefits.baseline_period,
        unit_values.financial_year,
        unit_values.unit_value,
        unit_values.observations,
        unit_values.in_return
    from units
    inner join benefits on units.benefit_id = benefits.benefit_id
    inner join unit_values
        on
            units.measure = unit_values.measure
            and units.unit_id = unit_values.unit_id
            and coalesce(unit_values.price_base_year, benefits.price_base_year) = benefits.price_base_year
            and benefits.baseline_period <= unit_values.financial_year
),

baselines as (
    select
        benefit_id,
        unit_id,
        unit_value as baseline_unit_value
    from unit_years
    where financial_year = baseline_period and in_return  -- a site in the baseline year's return
),

final as (
    select
        unit_years.benefit_id,
        unit_years.measure,
        unit_years.unit_type,
        unit_years.unit_id,
        unit_years.county,
        unit_years.rural_urban,
        unit_years.arm,
        unit_years.financial_year,
        unit_years.unit_value,
        baselines.baseline_unit_value,
        unit_years.unit_value - baselines.baseline_unit_value as unit_change,
        unit_years.observations,
        unit_years.in_return
    from unit_years
    inner join baselines
        on
            unit_years.benefit_id = baselines.benefit_id
            and unit_years.unit_id = baselines.unit_id
)

select * from final
