-- One row per Police Innovation Fund bid, as its bids file sent it, with its count of benefits.
-- project_type, optimism_bias and appraisal_years are optional in the contract and null when the
-- bid did not give them: fct_bid_value says which defaults it then used.
with

bids as (
    select * from {{ ref('stg_agency__bids') }}
),

benefits as (
    select * from {{ ref('stg_agency__benefits_register') }}
),

benefit_counts as (
    select
        bid_id,
        count(*) as benefits
    from benefits
    group by bid_id
),

final as (
    select
        bids.bid_id,
        bids.title,
        bids.fund_round,
        bids.lead_organisation,
        bids.partners,
        bids.county,
        bids.award_gbp,
        bids.partner_contribution_gbp,
        bids.award_gbp + bids.partner_contribution_gbp as total_cost_gbp,
        bids.go_live_date,
        bids.project_type,
        bids.optimism_bias,
        bids.appraisal_years,
        coalesce(benefit_counts.benefits, 0) as benefits,
        bids._source_file as source_file,
        bids._source_row as source_row
    from bids
    left join benefit_counts on bids.bid_id = benefit_counts.bid_id
)

select * from final
