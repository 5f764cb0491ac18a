-- Cost per incident per organisation and financial year: outturn spend over the incidents the
-- organisation's service attended in the districts it serves (boundary lookup, matched by name).
--
-- The incidents are counted from the monthly response mart's district rows for all categories:
-- the same incidents, a few thousand rows instead of every incident, each night
-- (docs/performance.md).
with

finance as (
    select * from {{ ref('stg_agency__finance') }}
),

monthly as (
    select * from {{ ref('fct_response_times_monthly') }}
),

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

spend as (
    select
        organisation,
        service,
        financial_year,
        sum(spend_gbp) as spend_gbp,
        sum(budget_gbp) as budget_gbp
    from finance
    group by organisation, service, financial_year
),

served as (
    select
        district_code,
        'police' as service,
        police_force_name as organisation
    from districts
    union all
    select
        district_code,
        'fire' as service,
        fire_authority_name as organisation
    from districts
    union all
    select
        district_code,
        'ambulance' as service,
        ambulance_trust_name as organisation
    from districts
),

district_months as (
    select
        service,
        area_code as district_code,
        {{ financial_year('month') }} as financial_year,
        incidents
    from monthly
    where area_type = 'district' and incident_category = 'all'
),

attended as (
    select
        served.organisation,
        district_months.service,
        district_months.financial_year,
        cast(sum(district_months.incidents) as bigint) as incidents
    from district_months
    inner join served
        on
            district_months.district_code = served.district_code
            and district_months.service = served.service
    group by served.organisation, district_months.service, district_months.financial_year
),

final as (
    select
        spend.organisation,
        spend.service,
        spend.financial_year,
        spend.spend_gbp,
        spend.budget_gbp,
        coalesce(attended.incidents, 0) as incidents,
        spend.spend_gbp / nullif(attended.incidents, 0) as cost_per_incident_gbp
    from spend
    left join attended
        on
            spend.organisation = attended.organisation
            and spend.service = attended.service
            and spend.financial_year = attended.financial_year
)

select * from final
