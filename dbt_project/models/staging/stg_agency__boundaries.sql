with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'boundaries') }}
),

latest as (
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
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['district_code']) }}
)

select * from latest
