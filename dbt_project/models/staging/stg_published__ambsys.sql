with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('published', 'ambsys') }}
),

latest as (
    select
        period,
        region,
        org_code,
        org_name,
        measure_code,
        value,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['period', 'org_code', 'measure_code']) }}
)

select * from latest
