with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'bid_costs') }}
),

latest as (
    select
        bid_id,
        financial_year,
        cost_type,
        funded_by,
        amount_gbp,
        status,
        description,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['bid_id', 'financial_year', 'cost_type', 'funded_by']) }}
)

select * from latest
