with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'benefits_register') }}
),

latest as (
    select
        benefit_id,
        bid_id,
        description,
        category,
        recurrence,
        beneficiary,
        owner,
        measure,
        measure_county,
        measure_scope,
        unit,
        direction,
        baseline_value,
        baseline_period,
        target_value,
        target_date,
        attribution_share,
        price_base_year,
        evidence_source,
        confidence,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['benefit_id']) }}
)

select * from latest
