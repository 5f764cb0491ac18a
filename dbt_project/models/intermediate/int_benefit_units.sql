-- The units each benefit's counterfactual compares, and which arm each is in.
--
-- A unit is what the measure is observed on: a district for the incident measures (its incidents'
-- mean that year), a police estate site for police estate running cost (its running cost that
-- year). A benefit's treated units are those in its measure_county, within its measure_scope
-- (all, rural or urban districts; a site takes its district's class). Its comparison units are
-- those, in the same scope, of every county that is not the measure_county of ANY benefit on the
-- same measure: an area treated by another bid for the same measure has that bid's effect in it
-- and cannot say what would have happened without one.
--
-- Capital receipts have no units: a receipt exists only because of a disposal, so its
-- before/after change is its effect (fct_benefit_counterfactual says so in its method).
with

benefits as (
    select * from {{ ref('stg_agency__benefits_register') }}
),

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

estates as (
    select * from {{ ref('stg_agency__estates') }}
),

-- The measures that have units to compare, and what their units are.
unit_types as (
    select
        unit_type_values.measure,
        unit_type_values.unit_type
    from (
        values
        ('fire_call_handling_mean_seconds', 'district'),
        ('cardiac_arrest_response_mean_minutes', 'district'),
        ('police_estate_running_cost_gbp', 'site')
    ) as unit_type_values (measure, unit_type)
),

-- Every county that some benefit on the measure is measured in: treated for that measure.
treated_counties as (
    select distinct
        measure,
        measure_county as county
    from benefits
),

district_units as (
    select
        'district' as unit_type,
        district_code as unit_id,
        district_code,
        county,
        rural_urban
    from districts
),

-- Each police site once, in the district of its latest return.
site_units as (
    select
        'site' as unit_type,
        estates.site_id as unit_id,
        estates.district_code,
        districts.county,
        districts.rural_urban
    from estates
    inner join districts on estates.district_code = districts.district_code
    where estates.service = 'police'
    qualify row_number() over (partition by estates.site_id order by estates.financial_year desc) = 1
),

units as (
    select * from district_units
    union all
    select * from site_units
),

in_scope as (
    select
        benefits.benefit_id,
        benefits.measure,
        benefits.measure_county,
        units.unit_type,
        units.unit_id,
        units.district_code,
        units.county,
        units.rural_urban
    from benefits
    inner join unit_types on benefits.measure = unit_types.measure
    inner join units
        on
            unit_types.unit_type = units.unit_type
            and (benefits.measure_scope = 'all' or benefits.measure_scope = units.rural_urban)
),

final as (
    select
        in_scope.benefit_id,
        in_scope.measure,
        in_scope.unit_type,
        in_scope.unit_id,
        in_scope.district_code,
        in_scope.county,
        in_scope.rural_urban,
        case when in_scope.county = in_scope.measure_county then 'treated' else 'comparison' end as arm
    from in_scope
    left join treated_counties
        on
            in_scope.measure = treated_counties.measure
            and in_scope.county = treated_counties.county
    where
        in_scope.county = in_scope.measure_county
        or treated_counties.county is null
)

select * from final
