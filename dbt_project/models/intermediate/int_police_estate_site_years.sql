-- Each police estate site per financial year, from its first return on, for every year its
-- organisation sent a return: the site's running cost, and 0 in a year it is no longer in the
-- return (closed sites drop out of the estate return after disposal, and a site that has gone
-- costs nothing). A year its organisation sent no return at all is left out, so a return not yet
-- sent never reads as a saving. Each cost is also divided by the year's GDP deflator, so the
-- panels can restate it at a benefit's price base year (times that year's deflator).
with

estates as (
    select * from {{ ref('stg_agency__estates') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

police_sites as (
    select * from estates
    where service = 'police'
),

-- A site's organisation is that of its first return.
site_first_years as (
    select
        site_id,
        arg_min(organisation, financial_year) as organisation,
        min(financial_year) as first_year
    from police_sites
    group by site_id
),

organisation_years as (
    select distinct
        organisation,
        financial_year
    from police_sites
),

site_years as (
    select
        site_first_years.site_id,
        site_first_years.organisation,
        organisation_years.financial_year
    from site_first_years
    inner join organisation_years
        on
            site_first_years.organisation = organisation_years.organisation
            and site_first_years.first_year <= organisation_years.financial_year
),

final as (
    select
        site_years.site_id,
        site_years.organisation,
        site_years.financial_year,
        police_sites.site_id is not null as in_return,
        coalesce(police_sites.running_cost_gbp, 0) as running_cost_gbp,
        coalesce(police_sites.running_cost_gbp, 0) / deflators.deflator_index as cost_per_deflator_point
    from site_years
    inner join deflators on site_years.financial_year = deflators.financial_year
    left join police_sites
        on
            site_years.site_id = police_sites.site_id
            and site_years.financial_year = police_sites.financial_year
)

select * from final
