with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('bid_costs') }}
),

typed as (
    select
        bid_id,
        financial_year,
        cost_type,
        funded_by,
        raw.parse_number(amount_gbp) as amount_gbp,
        status,
        description,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['bid_id', 'financial_year', 'cost_type', 'funded_by']) }}
)

select * from typed
