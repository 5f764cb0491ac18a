with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('ambsys', 'published') }}
),

typed as (
    select
        raw.parse_date(period) as period,
        region,
        org_code,
        org_name,
        measure_code,
        raw.parse_number(value) as value,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['period', 'org_code', 'measure_code']) }}
)

select * from typed
