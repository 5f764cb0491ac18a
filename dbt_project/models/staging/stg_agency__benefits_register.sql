with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('benefits_register') }}
),

typed as (
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
        raw.parse_number(baseline_value) as baseline_value,
        baseline_period,
        raw.parse_number(target_value) as target_value,
        raw.parse_date(target_date) as target_date,
        raw.parse_number(attribution_share) as attribution_share,
        price_base_year,
        evidence_source,
        confidence,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['benefit_id']) }}
)

select * from typed
