with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('police_workforce_tables', 'published') }}
),

typed as (
    select
        table_name,
        worker_type,
        raw.parse_date(as_at_date) as as_at_date,
        force_name,
        raw.parse_number(fte) as fte,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['table_name', 'as_at_date', 'force_name']) }}
)

select * from typed
