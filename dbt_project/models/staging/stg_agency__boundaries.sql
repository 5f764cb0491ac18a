with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('boundaries') }}
),

typed as (
    select
        district_code,
        district_name,
        county,
        rural_urban,
        raw.parse_integer(population) as population,
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

select * from typed
