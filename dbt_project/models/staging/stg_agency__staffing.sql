with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('staffing') }}
),

typed as (
    select
        raw.parse_date(month) as month,
        organisation,
        service,
        role,
        raw.parse_number(fte) as fte,
        raw.parse_integer(headcount) as headcount,
        raw.parse_boolean(shared_post) as is_shared_post,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['organisation', 'month', 'role']) }}
)

select * from typed
