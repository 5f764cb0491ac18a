-- Cost per incident per organisation and financial year: outturn spend over the incidents the
-- organisation's service attended in the districts it serves (boundary lookup, matched by name).
with

finance as (
    select * from {{ ref('stg_agency__finance') }}
),

incidents as (
    select * from {{ ref('int_incidents__with_area') }}
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

attended as (
    select
        served.organisation,
        incidents.service,
        incidents.financial_year,
        count(*) as incidents
    from incidents
    inner join served
        on incidents.district_code = served.district_code and incidents.service = served.service
    group by served.organisation, incidents.service, incidents.financial_year
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
