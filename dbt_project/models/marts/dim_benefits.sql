with

benefits as (
    select * from {{ ref('stg_agency__benefits_register') }}
),

bids as (
    select * from {{ ref('stg_agency__bids') }}
),

final as (
    select
        benefits.benefit_id,
        benefits.bid_id,
        benefits.description,
        benefits.category,
        benefits.recurrence,
        benefits.beneficiary,
        benefits.owner,
        benefits.measure,
        benefits.measure_county,
        benefits.measure_scope,
        benefits.unit,
        benefits.direction,
        benefits.baseline_value,
        benefits.baseline_period,
        benefits.target_value,
        benefits.target_date,
        bids.go_live_date,
        benefits.attribution_share,
        benefits.price_base_year,
        benefits.evidence_source,
        benefits.confidence,
        benefits._source_file as source_file,
        benefits._source_row as source_row
    from benefits
    inner join bids on benefits.bid_id = bids.bid_id
)

select * from final
