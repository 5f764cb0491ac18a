-- Per measure, county and scope: the benefits that claim a share of its change, their bids, and
-- the shares' total. One change can be credited at most once, so the total must not exceed 1:
-- the quality gate stops the publish when it does (expectations/marts/fct_measure_attribution),
-- naming the measure and the bids, because otherwise two bids would count the same saving.
with

benefits as (
    select * from {{ ref('dim_benefits') }}
),

final as (
    select
        measure,
        measure_county,
        measure_scope,
        count(*) as benefits,
        string_agg(benefit_id, ', ' order by benefit_id) as benefit_ids,
        string_agg(distinct bid_id, ', ' order by bid_id) as bid_ids,
        -- Rounded so that shares a register writes as tenths add up to exactly what they say.
        round(sum(attribution_share), 9) as total_attribution_share
    from benefits
    group by measure, measure_county, measure_scope
)

select * from final
