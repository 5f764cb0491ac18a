-- Per bid, its value as the HM Treasury Green Book appraises it, from the yearly money of
-- fct_bid_cash_flows (costs in the year paid, money benefits in the year realised, real terms at
-- the price base year of the bid's register, discounted to that year: 3.5% a year to year 30,
-- 3.0% after).
--
-- To date: the money benefits measured so far against the costs of the years to date (every cost
-- paid, and any cost planned for a year already past, with its optimism bias): present values,
-- NPV = benefits - costs, benefit-cost ratio (BCR) = benefits / costs, and the payback year, the
-- first year by whose end the discounted benefits to date cover the discounted costs to date.
-- Whole life: the appraisal period, measured years plus the forecast (recurring money benefits
-- held at their last measured real value), costs with optimism bias on those not yet paid at the
-- headline share (the bid's own, else the Green Book upper bound) and at the guidance's lower and
-- upper bounds (_ob_low, _ob_high). The switching value is the share by which whole-life benefits
-- could fall before the BCR drops to 1: 1 - PV costs / PV benefits (negative when the BCR is
-- below 1 already).
-- Benefits that are not money (non-financial, or measured in other units than pounds) are not in
-- any ratio: they are counted beside it (non_monetised_benefits), and a bid with no money benefit
-- has no BCR or switching value (null, not 0). cost_basis says whether the bid sent a cost
-- profile or is costed at its award and partners' contribution in the go-live year.
with

bids as (
    select * from {{ ref('dim_bids') }}
),

benefits as (
    select * from {{ ref('dim_benefits') }}
),

cash_flows as (
    select * from {{ ref('fct_bid_cash_flows') }}
),

benefit_counts as (
    select
        bid_id,
        count(*) filter (where unit = 'gbp' and category in ('cashable', 'non_cashable'))
            as monetised_benefits,
        count(*) filter (where category = 'non_financial' or unit != 'gbp') as non_monetised_benefits
    from benefits
    group by bid_id
),

to_date_flows as (
    select
        bid_id,
        financial_year,
        is_to_date,
        case when is_forecast then 0 else cashable_benefits_real_gbp * discount_factor end as pv_cashable_gbp,
        case when is_forecast then 0 else non_cashable_benefits_real_gbp * discount_factor end
            as pv_non_cashable_gbp,
        case when is_forecast then 0 else pv_benefits_gbp end as pv_benefits_gbp,
        case when is_to_date then pv_cost_gbp else 0 end as pv_cost_gbp
    from cash_flows
    where not is_forecast or is_to_date
),

to_date_cumulative as (
    select
        bid_id,
        financial_year,
        sum(pv_benefits_gbp) over (partition by bid_id order by financial_year) as cumulative_benefits_gbp,
        sum(pv_cost_gbp) over (partition by bid_id order by financial_year) as cumulative_cost_gbp
    from to_date_flows
),

whole_life_cumulative as (
    select
        bid_id,
        financial_year,
        sum(pv_benefits_gbp) over (partition by bid_id order by financial_year) as cumulative_benefits_gbp,
        sum(pv_cost_gbp) over (partition by bid_id order by financial_year) as cumulative_cost_gbp
    from cash_flows
    where in_appraisal_period
),

to_date_payback as (
    select
        bid_id,
        min(financial_year) as payback_year
    from to_date_cumulative
    where cumulative_benefits_gbp > 0 and cumulative_benefits_gbp >= cumulative_cost_gbp
    group by bid_id
),

whole_life_payback as (
    select
        bid_id,
        min(financial_year) as payback_year
    from whole_life_cumulative
    where cumulative_benefits_gbp > 0 and cumulative_benefits_gbp >= cumulative_cost_gbp
    group by bid_id
),

to_date as (
    select
        bid_id,
        max(financial_year) filter (where is_to_date) as to_date_year,
        sum(pv_cashable_gbp) as pv_cashable_gbp,
        sum(pv_non_cashable_gbp) as pv_non_cashable_gbp,
        sum(pv_benefits_gbp) as pv_benefits_gbp,
        sum(pv_cost_gbp) as pv_cost_gbp
    from to_date_flows
    group by bid_id
),

whole_life as (
    select
        bid_id,
        any_value(price_base_year) as price_base_year,
        any_value(cost_basis) as cost_basis,
        min(financial_year) filter (where in_appraisal_period) as appraisal_from,
        max(financial_year) filter (where in_appraisal_period) as appraisal_to,
        sum(award_funded_cash_gbp) as award_costed_gbp,
        sum(pv_benefits_gbp) filter (where in_appraisal_period) as pv_benefits_gbp,
        sum(pv_cost_gbp) filter (where in_appraisal_period) as pv_cost_gbp,
        sum(pv_cost_ob_low_gbp) filter (where in_appraisal_period) as pv_cost_ob_low_gbp,
        sum(pv_cost_ob_high_gbp) filter (where in_appraisal_period) as pv_cost_ob_high_gbp
    from cash_flows
    group by bid_id
),

final as (
    select
        whole_life.bid_id,
        whole_life.price_base_year,
        whole_life.cost_basis,
        bids.project_type,
        case
            when bids.optimism_bias is not null then 'bid appraisal'
            when bids.project_type is not null then 'Green Book upper bound'
            else 'none: no project type'
        end as optimism_bias_basis,
        bids.award_gbp,
        whole_life.award_costed_gbp,
        coalesce(benefit_counts.monetised_benefits, 0) as monetised_benefits,
        coalesce(benefit_counts.non_monetised_benefits, 0) as non_monetised_benefits,
        -- To date.
        to_date.to_date_year,
        coalesce(to_date.pv_cashable_gbp, 0) as pv_cashable_gbp,
        coalesce(to_date.pv_non_cashable_gbp, 0) as pv_non_cashable_gbp,
        coalesce(to_date.pv_benefits_gbp, 0) as pv_benefits_gbp,
        coalesce(to_date.pv_cost_gbp, 0) as pv_cost_gbp,
        coalesce(to_date.pv_benefits_gbp, 0) - coalesce(to_date.pv_cost_gbp, 0) as npv_gbp,
        case
            when benefit_counts.monetised_benefits > 0
                then to_date.pv_benefits_gbp / nullif(to_date.pv_cost_gbp, 0)
        end as benefit_cost_ratio,
        to_date_payback.payback_year,
        -- Whole life, over the appraisal period.
        whole_life.appraisal_from,
        whole_life.appraisal_to,
        whole_life.pv_benefits_gbp as whole_life_pv_benefits_gbp,
        whole_life.pv_cost_gbp as whole_life_pv_cost_gbp,
        whole_life.pv_benefits_gbp - whole_life.pv_cost_gbp as whole_life_npv_gbp,
        case
            when benefit_counts.monetised_benefits > 0
                then whole_life.pv_benefits_gbp / nullif(whole_life.pv_cost_gbp, 0)
        end as whole_life_bcr,
        whole_life.pv_benefits_gbp - whole_life.pv_cost_ob_low_gbp as whole_life_npv_ob_low_gbp,
        case
            when benefit_counts.monetised_benefits > 0
                then whole_life.pv_benefits_gbp / nullif(whole_life.pv_cost_ob_low_gbp, 0)
        end as whole_life_bcr_ob_low,
        whole_life.pv_benefits_gbp - whole_life.pv_cost_ob_high_gbp as whole_life_npv_ob_high_gbp,
        case
            when benefit_counts.monetised_benefits > 0
                then whole_life.pv_benefits_gbp / nullif(whole_life.pv_cost_ob_high_gbp, 0)
        end as whole_life_bcr_ob_high,
        whole_life_payback.payback_year as whole_life_payback_year,
        case
            when benefit_counts.monetised_benefits > 0 and whole_life.pv_benefits_gbp > 0
                then 1 - whole_life.pv_cost_gbp / whole_life.pv_benefits_gbp
        end as switching_value
    from whole_life
    inner join bids on whole_life.bid_id = bids.bid_id
    left join benefit_counts on whole_life.bid_id = benefit_counts.bid_id
    left join to_date on whole_life.bid_id = to_date.bid_id
    left join to_date_payback on whole_life.bid_id = to_date_payback.bid_id
    left join whole_life_payback on whole_life.bid_id = whole_life_payback.bid_id
)

select * from final
