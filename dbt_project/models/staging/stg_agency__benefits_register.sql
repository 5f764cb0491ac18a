with

source as (
    select * from {{ source('agency', 'benefits_register') }}
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
        cast(baseline_value as double) as baseline_value,
        baseline_period,
        cast(target_value as double) as target_value,
        cast(target_date as date) as target_date,
        cast(attribution_share as double) as attribution_share,
        price_base_year,
        evidence_source,
        confidence,
        _load_id,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['benefit_id']) }}
)

select * from typed
