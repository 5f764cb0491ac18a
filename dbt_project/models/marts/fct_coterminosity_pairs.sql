-- Co-terminosity both ways, for every pair of areas of two kinds that share a district (police
-- force area and fire and rescue authority, police force area and ambulance trust, fire and
-- rescue authority and ambulance trust), from the agencies' boundary file: the districts and
-- population they share; the share of the first area inside the second, and the share of the
-- second inside the first, by population and by districts. A pair is co-terminous when each
-- lies wholly inside the other (every district of each is shared). One direction alone misleads: a small
-- fire authority wholly inside a large police force area is all inside it, while the force area
-- is mostly outside the authority.
with

districts as (
    select * from {{ ref('dim_areas') }}
),

memberships as (
    select
        district_code,
        population,
        'police_force_area' as area_type,
        police_force_code as area_code,
        police_force_name as area_name
    from districts
    union all
    select
        district_code,
        population,
        'fire_authority' as area_type,
        fire_authority_code as area_code,
        fire_authority_name as area_name
    from districts
    union all
    select
        district_code,
        population,
        'ambulance_trust' as area_type,
        ambulance_trust_code as area_code,
        ambulance_trust_name as area_name
    from districts
),

area_totals as (
    select
        area_type,
        area_code,
        any_value(area_name) as area_name,
        count(*) as districts,
        sum(population) as population
    from memberships
    group by area_type, area_code
),

shared as (
    select
        own.area_type,
        own.area_code,
        other.area_type as partner_type,
        other.area_code as partner_code,
        count(*) as shared_districts,
        sum(own.population) as shared_population
    from memberships as own
    inner join memberships as other
        on
            own.district_code = other.district_code
            and own.area_type < other.area_type
    group by own.area_type, own.area_code, other.area_type, other.area_code
),

final as (
    select
        shared.area_type,
        shared.area_code,
        area.area_name,
        shared.partner_type,
        shared.partner_code,
        partner.area_name as partner_name,
        shared.shared_districts,
        shared.shared_population,
        shared.shared_population / nullif(area.population, 0) as area_population_share,
        shared.shared_population / nullif(partner.population, 0) as partner_population_share,
        shared.shared_districts / area.districts as area_district_share,
        shared.shared_districts / partner.districts as partner_district_share,
        shared.shared_districts = area.districts
        and shared.shared_districts = partner.districts as is_coterminous
    from shared
    inner join area_totals as area
        on shared.area_type = area.area_type and shared.area_code = area.area_code
    inner join area_totals as partner
        on shared.partner_type = partner.area_type and shared.partner_code = partner.area_code
)

select * from final
