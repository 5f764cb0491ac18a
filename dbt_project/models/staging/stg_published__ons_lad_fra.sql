with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('published', 'ons_lad_fra') }}
),

latest as (
    select
        district_code,
        district_name,
        fra_code,
        fra_name,
        vintage,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['vintage', 'district_code']) }}
)

select * from latest
