with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('published', 'police_workforce_tables') }}
),

latest as (
    select
        table_name,
        worker_type,
        as_at_date,
        force_name,
        fte,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['table_name', 'as_at_date', 'force_name']) }}
)

select * from latest
