with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'finance') }}
),

latest as (
    select
        financial_year,
        organisation,
        service,
        line,
        budget_gbp,
        spend_gbp,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['organisation', 'financial_year', 'line']) }}
)

select * from latest
