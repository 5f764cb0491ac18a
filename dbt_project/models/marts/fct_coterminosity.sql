-- Co-terminosity: for each police force area, fire and rescue authority and ambulance trust, how
-- much of it (by districts and by population) is served by one police force area, one fire and
-- rescue authority and one ambulance trust together: a district counts when its other two
-- organisations are the area's main ones (those serving most of the area's population).
with

districts as (
    select * from {{ ref('dim_areas') }}
),

memberships as (
    select
        'police_force_area' as area_type,
        police_force_code as area_code,
        police_force_name as area_name,
        district_code,
        population,
        fire_authority_code as first_partner,
        ambulance_trust_code as second_partner
    from districts
    union all
    select
        'fire_authority' as area_type,
        fire_authority_code as area_code,
        fire_authority_name as area_name,
        district_code,
        population,
        police_force_code as first_partner,
        ambulance_trust_code as second_partner
    from districts
    union all
    select
        'ambulance_trust' as area_type,
        ambulance_trust_code as area_code,
        ambulance_trust_name as area_name,
        district_code,
        population,
        police_force_code as first_partner,
        fire_authority_code as second_partner
    from districts
),

partner_population as (
    select
        area_type,
        area_code,
        first_partner,
        second_partner,
        sum(population) over (partition by area_type, area_code, first_partner) as first_population,
        sum(population) over (partition by area_type, area_code, second_partner) as second_population
    from memberships
),

main_partners as (
    select
        area_type,
        area_code,
        arg_max(first_partner, first_population) as main_first_partner,
        arg_max(second_partner, second_population) as main_second_partner
    from partner_population
    group by area_type, area_code
),

flagged as (
    select
        memberships.*,
        memberships.first_partner = main_partners.main_first_partner
        and memberships.second_partner = main_partners.main_second_partner as is_coterminous
    from memberships
    inner join main_partners
        on memberships.area_type = main_partners.area_type and memberships.area_code = main_partners.area_code
),

counted as (
    select
        area_type,
        area_code,
        any_value(area_name) as area_name,
        count(*) as districts,
        sum(case when is_coterminous then 1 else 0 end) as coterminous_districts,
        sum(population) as population,
        sum(case when is_coterminous then population else 0 end) as coterminous_population
    from flagged
    group by area_type, area_code
),

final as (
    select
        *,
        coterminous_districts / districts as district_share,
        coterminous_population / nullif(population, 0) as population_share
    from counted
)

select * from final
