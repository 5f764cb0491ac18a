-- Co-terminosity of every police force area and fire and rescue authority from the ONS district
-- lookups alone, in both directions, so a deployment with only published statistics shows how far
-- the two kinds of area coincide. Each lookup is read at its latest vintage. The two vintages may
-- differ, and district codes change between vintages (districts merge), so an area's districts
-- are counted twice: all of them, and those the other lookup also holds (matched). Over the
-- matched districts: the partners (areas of the other kind), the main partner (most matched
-- districts; the lower code on a tie) and its share. An area is co-terminous with its main
-- partner when each holds all of the other's matched districts. Shares are of districts: the
-- lookups carry no population. Empty until both lookups are loaded.
with

lookups as (
    select * from {{ ref('dim_district_lookups') }}
),

vintages as (
    select
        max(case when area_type = 'police_force_area' then vintage end) as pfa_vintage,
        max(case when area_type = 'fire_authority' then vintage end) as fra_vintage
    from lookups
),

latest as (
    select lookups.*
    from lookups
    inner join vintages
        on
            (lookups.area_type = 'police_force_area' and lookups.vintage = vintages.pfa_vintage)
            or (lookups.area_type = 'fire_authority' and lookups.vintage = vintages.fra_vintage)
    where vintages.pfa_vintage is not null and vintages.fra_vintage is not null
),

areas as (
    select
        area_type,
        area_code,
        min(area_name) as area_name,
        count(*) as districts
    from latest
    group by area_type, area_code
),

matched as (
    select
        own.area_type,
        own.area_code,
        own.district_code,
        other.area_code as partner_code,
        other.area_name as partner_name
    from latest as own
    inner join latest as other
        on own.district_code = other.district_code and own.area_type != other.area_type
),

matched_counts as (
    select
        area_type,
        area_code,
        count(*) as matched_districts,
        count(distinct partner_code) as partners
    from matched
    group by area_type, area_code
),

partner_counts as (
    select
        area_type,
        area_code,
        partner_code,
        min(partner_name) as partner_name,
        count(*) as districts_in_partner
    from matched
    group by area_type, area_code, partner_code
),

main_partners as (
    select
        area_type,
        area_code,
        partner_code,
        partner_name,
        districts_in_partner
    from partner_counts
    qualify row_number() over (
        partition by area_type, area_code
        order by districts_in_partner desc, partner_code asc
    ) = 1
),

final as (
    select
        areas.area_type,
        areas.area_code,
        areas.area_name,
        case
            when areas.area_type = 'police_force_area' then 'fire_authority' else 'police_force_area'
        end as partner_type,
        areas.districts,
        coalesce(matched_counts.matched_districts, 0) as matched_districts,
        coalesce(matched_counts.partners, 0) as partners,
        main_partners.partner_code as main_partner_code,
        main_partners.partner_name as main_partner_name,
        coalesce(main_partners.districts_in_partner, 0) as districts_in_main_partner,
        main_partners.districts_in_partner / matched_counts.matched_districts as district_share,
        -- The main partner holds all of this area's matched districts, and all of its own
        -- matched districts lie in this area.
        coalesce(
            main_partners.districts_in_partner = matched_counts.matched_districts
            and main_partners.districts_in_partner = partner_matched.matched_districts,
            false
        ) as is_coterminous,
        vintages.pfa_vintage,
        vintages.fra_vintage
    from areas
    cross join vintages
    left join matched_counts
        on areas.area_type = matched_counts.area_type and areas.area_code = matched_counts.area_code
    left join main_partners
        on areas.area_type = main_partners.area_type and areas.area_code = main_partners.area_code
    left join matched_counts as partner_matched
        on
            main_partners.partner_code = partner_matched.area_code
            and areas.area_type != partner_matched.area_type
)

select * from final
