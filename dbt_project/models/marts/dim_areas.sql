with

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

final as (
    select
        district_code,
        district_name,
        county,
        rural_urban,
        population,
        police_force_code,
        police_force_name,
        fire_authority_code,
        fire_authority_name,
        ambulance_trust_code,
        ambulance_trust_name,
        _source_file as source_file,
        _source_row as source_row
    from districts
)

select * from final
