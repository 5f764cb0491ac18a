with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('published', 'ons_lad_pfa') }}
),

latest as (
    select
        district_code,
        district_name,
        pfa_code,
        pfa_name,
        vintage,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['vintage', 'district_code']) }}
)

select * from latest
