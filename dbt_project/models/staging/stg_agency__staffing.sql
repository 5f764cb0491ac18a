with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'staffing') }}
),

latest as (
    select
        month,
        organisation,
        service,
        role,
        fte,
        headcount,
        shared_post as is_shared_post,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['organisation', 'month', 'role']) }}
)

select * from latest
