-- Per bid: present value of its money benefits (cashable and non-cashable kept apart) against
-- its cost (fund award plus partners' contributions, spent in the go-live year), the net present
-- value, the benefit-cost ratio and the payback year (the first financial year by whose end the
-- discounted benefits to date cover the discounted cost). Money in pounds, real terms at the
-- price base year of the bid's register, discounted to that year.
with

bids as (
    select * from {{ ref('dim_bids') }}
),

benefits as (
    select * from {{ ref('dim_benefits') }}
),

cash_flows as (
    select * from {{ ref('fct_benefit_cash_flows') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

price_base as (
    select
        bid_id,
        max(price_base_year) as price_base_year
    from benefits
    group by bid_id
),

costs as (
    select
        bids.bid_id,
        price_base.price_base_year,
        bids.total_cost_gbp
        * base.deflator_index / go_live_deflator.deflator_index
        / power(
            1 + {{ var('discount_rate') }},
            cast(left({{ financial_year('bids.go_live_date') }}, 4) as integer)
            - cast(left(price_base.price_base_year, 4) as integer)
        ) as present_value_cost_gbp
    from bids
    inner join price_base on bids.bid_id = price_base.bid_id
    inner join deflators as base on price_base.price_base_year = base.financial_year
    inner join deflators as go_live_deflator
        on {{ financial_year('bids.go_live_date') }} = go_live_deflator.financial_year
),

yearly as (
    select
        bid_id,
        financial_year,
        sum(present_value_gbp) as present_value_gbp
    from cash_flows
    group by bid_id, financial_year
),

cumulative as (
    select
        yearly.bid_id,
        yearly.financial_year,
        sum(yearly.present_value_gbp) over (
            partition by yearly.bid_id order by yearly.financial_year
        ) as cumulative_present_value_gbp
    from yearly
),

payback as (
    select
        cumulative.bid_id,
        min(cumulative.financial_year) as payback_year
    from cumulative
    inner join costs on cumulative.bid_id = costs.bid_id
    where cumulative.cumulative_present_value_gbp >= costs.present_value_cost_gbp
    group by cumulative.bid_id
),

totals as (
    select
        bid_id,
        coalesce(sum(case when category = 'cashable' then present_value_gbp end), 0) as pv_cashable_gbp,
        coalesce(sum(case when category = 'non_cashable' then present_value_gbp end), 0) as pv_non_cashable_gbp
    from cash_flows
    group by bid_id
),

final as (
    select
        costs.bid_id,
        costs.price_base_year,
        coalesce(totals.pv_cashable_gbp, 0) as pv_cashable_gbp,
        coalesce(totals.pv_non_cashable_gbp, 0) as pv_non_cashable_gbp,
        coalesce(totals.pv_cashable_gbp + totals.pv_non_cashable_gbp, 0) as pv_benefits_gbp,
        costs.present_value_cost_gbp as pv_cost_gbp,
        coalesce(totals.pv_cashable_gbp + totals.pv_non_cashable_gbp, 0)
        - costs.present_value_cost_gbp as npv_gbp,
        coalesce(totals.pv_cashable_gbp + totals.pv_non_cashable_gbp, 0)
        / nullif(costs.present_value_cost_gbp, 0) as benefit_cost_ratio,
        payback.payback_year
    from costs
    left join totals on costs.bid_id = totals.bid_id
    left join payback on costs.bid_id = payback.bid_id
)

select * from final
