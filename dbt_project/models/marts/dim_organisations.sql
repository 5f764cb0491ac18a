-- One row per organisation and county it serves: the police forces, fire and rescue authorities
-- and ambulance trusts, by the codes the access file grants (a user granted an organisation sees
-- the bids and agency data of every county it serves).
with

areas as (
    select * from {{ ref('dim_areas') }}
),

served as (
    select
        police_force_code as organisation_code,
        police_force_name as organisation_name,
        'police_force' as organisation_type,
        county,
        district_code
    from areas
    union all
    select
        fire_authority_code as organisation_code,
        fire_authority_name as organisation_name,
        'fire_authority' as organisation_type,
        county,
        district_code
    from areas
    union all
    select
        ambulance_trust_code as organisation_code,
        ambulance_trust_name as organisation_name,
        'ambulance_trust' as organisation_type,
        county,
        district_code
    from areas
),

final as (
    select
        organisation_code,
        organisation_name,
        organisation_type,
        county,
        count(*) as districts
    from served
    group by organisation_code, organisation_name, organisation_type, county
)

select * from final
