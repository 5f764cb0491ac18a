-- ONS lookups from district to police force area and to fire and rescue authority, per vintage.
with

police as (
    select * from {{ ref('stg_published__ons_lad_pfa') }}
),

fire as (
    select * from {{ ref('stg_published__ons_lad_fra') }}
),

unioned as (
    select
        vintage,
        district_code,
        district_name,
        'police_force_area' as area_type,
        pfa_code as area_code,
        pfa_name as area_name,
        _source_file,
        _source_row
    from police
    union all
    select
        vintage,
        district_code,
        district_name,
        'fire_authority' as area_type,
        fra_code as area_code,
        fra_name as area_name,
        _source_file,
        _source_row
    from fire
),

final as (
    select
        vintage,
        district_code,
        district_name,
        area_type,
        area_code,
        area_name,
        _source_file as source_file,
        _source_row as source_row
    from unioned
)

select * from final
