-- Per bid and scenario: the whole-life net present value and benefit-cost ratio (as
-- fct_bid_value's, over the appraisal period of fct_bid_cash_flows) with one assumption changed,
-- so a reader sees how far the verdict rests on it. The scenarios, each changing one thing:
--   central              the headline figures (optimism bias at the headline share, 3.5%/3.0%)
--   benefits -10/-25/-50% every year's money benefits, measured and forecast, cut by that share
--   costs +10/+25/+50%   every year's costs (with their headline optimism bias) raised by it
--   optimism bias lower / upper   costs not yet paid at the Green Book lower or upper bound for
--                                 the project type instead of the headline share
--   discount rate 1.5% / 5%       that rate in every year (no step down after year 30)
-- npv_change_gbp is the scenario's NPV less the central NPV. As in fct_bid_value, a bid with no
-- money benefit has no BCR (null).
{%- set scenarios = [
    (1, 'central', 'Headline: optimism bias at the headline share, the Green Book discount rates.', 1.0, 1.0, 'headline', none),
    (2, 'benefits_minus_10', 'Money benefits 10% lower in every year.', 0.9, 1.0, 'headline', none),
    (3, 'benefits_minus_25', 'Money benefits 25% lower in every year.', 0.75, 1.0, 'headline', none),
    (4, 'benefits_minus_50', 'Money benefits 50% lower in every year.', 0.5, 1.0, 'headline', none),
    (5, 'costs_plus_10', 'Costs (with their headline optimism bias) 10% higher in every year.', 1.0, 1.1, 'headline', none),
    (6, 'costs_plus_25', 'Costs (with their headline optimism bias) 25% higher in every year.', 1.0, 1.25, 'headline', none),
    (7, 'costs_plus_50', 'Costs (with their headline optimism bias) 50% higher in every year.', 1.0, 1.5, 'headline', none),
    (8, 'optimism_bias_lower', 'Costs not yet paid at the Green Book lower bound of optimism bias for the project type.', 1.0, 1.0, 'low', none),
    (9, 'optimism_bias_upper', 'Costs not yet paid at the Green Book upper bound of optimism bias for the project type.', 1.0, 1.0, 'high', none),
    (10, 'discount_rate_1_5', 'Discounted at 1.5% a year in every year.', 1.0, 1.0, 'headline', 0.015),
    (11, 'discount_rate_5', 'Discounted at 5% a year in every year.', 1.0, 1.0, 'headline', 0.05),
] %}

with

cash_flows as (
    select * from {{ ref('fct_bid_cash_flows') }}
),

bid_value as (
    select * from {{ ref('fct_bid_value') }}
),

scenarios as (
    select
        listed.scenario_order,
        listed.scenario,
        listed.description,
        cast(listed.benefit_factor as double) as benefit_factor,
        cast(listed.cost_factor as double) as cost_factor,
        listed.optimism_bias,
        cast(listed.rate as double) as rate,
        cast(listed.long_term_rate as double) as long_term_rate
    from (
        values
        {%- for order, name, description, benefits, costs, bias, rate in scenarios %}
            (
                {{ order }}, '{{ name }}', '{{ description }}', {{ benefits }}, {{ costs }}, '{{ bias }}',
                {{ var('discount_rate') if rate is none else rate }},
                {{ var('discount_rate_long_term') if rate is none else rate }}
            ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as listed (
        scenario_order, scenario, description, benefit_factor, cost_factor, optimism_bias, rate, long_term_rate
    )
),

valued as (
    select
        cash_flows.bid_id,
        scenarios.scenario_order,
        scenarios.scenario,
        scenarios.description,
        cash_flows.benefits_real_gbp * scenarios.benefit_factor
        * {{ discount_factor('cash_flows.years_from_base', 'scenarios.rate', 'scenarios.long_term_rate') }}
            as pv_benefits_gbp,
        case scenarios.optimism_bias
            when 'low' then cash_flows.cost_real_ob_low_gbp
            when 'high' then cash_flows.cost_real_ob_high_gbp
            else cash_flows.cost_real_gbp
        end
        * scenarios.cost_factor
        * {{ discount_factor('cash_flows.years_from_base', 'scenarios.rate', 'scenarios.long_term_rate') }}
            as pv_cost_gbp
    from cash_flows
    cross join scenarios
    where cash_flows.in_appraisal_period
),

totals as (
    select
        bid_id,
        scenario_order,
        scenario,
        description,
        sum(pv_benefits_gbp) as whole_life_pv_benefits_gbp,
        sum(pv_cost_gbp) as whole_life_pv_cost_gbp
    from valued
    group by bid_id, scenario_order, scenario, description
),

final as (
    select
        totals.bid_id,
        totals.scenario_order,
        totals.scenario,
        totals.description,
        totals.whole_life_pv_benefits_gbp,
        totals.whole_life_pv_cost_gbp,
        totals.whole_life_pv_benefits_gbp - totals.whole_life_pv_cost_gbp as whole_life_npv_gbp,
        case
            when bid_value.monetised_benefits > 0
                then totals.whole_life_pv_benefits_gbp / nullif(totals.whole_life_pv_cost_gbp, 0)
        end as whole_life_bcr,
        totals.whole_life_pv_benefits_gbp - totals.whole_life_pv_cost_gbp - bid_value.whole_life_npv_gbp
            as npv_change_gbp
    from totals
    inner join bid_value on totals.bid_id = bid_value.bid_id
)

select * from final
