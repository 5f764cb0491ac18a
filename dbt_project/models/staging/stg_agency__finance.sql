with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('finance') }}
),

typed as (
    select
        financial_year,
        organisation,
        service,
        line,
        raw.parse_number(budget_gbp) as budget_gbp,
        raw.parse_number(spend_gbp) as spend_gbp,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['organisation', 'financial_year', 'line']) }}
)

select * from typed
