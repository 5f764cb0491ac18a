-- The money of each bid, per financial year, as the HM Treasury Green Book appraises it: costs in
-- the year they are paid and money benefits in the year they are realised, in real terms at the
-- price base year of the bid's benefits register, discounted to that year.
--
-- Costs: the bid's cost profile (source bid_costs), in cash as sent, turned into real terms with
-- the GDP deflator (seed gdp_deflators: real = cash * deflator in the base year / deflator in the
-- year paid; a year after the seed's last is taken to grow var('gdp_deflator_forecast_growth'),
-- 2% a year, from it). A bid with no cost profile is costed as before: its award and partners'
-- contribution, capital, paid in the go-live year (cost_basis says which).
-- Optimism bias is added to costs not yet paid (status planned) only: outturn (actual) costs are
-- what was paid and carry none. Each planned cost is shown at three shares of uplift: the lower
-- and upper bounds of the Green Book supplementary guidance for the bid's project type (seed
-- optimism_bias_defaults; capital costs take the capital bounds, recurring costs the operating
-- ones, which the guidance gives for outsourcing only: none where it gives none, or where the bid
-- names no project type), and the headline: the bid's own optimism_bias when it gives one (for
-- each planned cost), else the upper bound, the guidance's starting point.
--
-- Benefits: the money benefits of fct_benefit_cash_flows (cashable and non-cashable, the bid's
-- attribution share) in each measured year. Years after the bid's last measured year (its last
-- complete one: a year to date is not measured yet) are a forecast (is_forecast): each recurring
-- money benefit is held at its last measured year's real value (no growth, no ramp-up: an
-- assumption, stated; a year above the trend is carried forward as it is), one-off benefits are
-- not repeated.
-- Forecast benefits stop at the end of the appraisal period.
--
-- The appraisal period runs from the first cost year (or the go-live year, if earlier) to the
-- go-live year + appraisal_years - 1 (the bid's own, else var('appraisal_years_default'), 10).
-- A measured or costed year outside it still has a row (in_appraisal_period false), so nothing
-- recorded is dropped; whole-life figures count only the appraisal period. Years to date
-- (is_to_date) run to the later of the last measured year and the last year with a paid cost.
-- Discounting: macro discount_factor (3.5% a year to year 30 from the price base year, 3.0% after).
with

bids as (
    select * from {{ ref('dim_bids') }}
),

benefits as (
    select * from {{ ref('dim_benefits') }}
),

realisation as (
    select * from {{ ref('fct_benefit_realisation') }}
),

benefit_cash_flows as (
    select * from {{ ref('fct_benefit_cash_flows') }}
),

bid_costs as (
    select * from {{ ref('stg_agency__bid_costs') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

optimism_bias_defaults as (
    select * from {{ ref('optimism_bias_defaults') }}
),

cost_rows as (
    -- start_year: the calendar year a financial year begins in (2016 for 2016-17), to count by.
    select
        bid_costs.bid_id,
        cast(left(bid_costs.financial_year, 4) as integer) as start_year,
        bid_costs.cost_type,
        bid_costs.funded_by,
        bid_costs.amount_gbp,
        bid_costs.status,
        'cost profile' as cost_basis
    from bid_costs
    semi join bids on bid_costs.bid_id = bids.bid_id
    union all
    select
        bids.bid_id,
        cast(left({{ financial_year('bids.go_live_date') }}, 4) as integer) as start_year,
        'capital' as cost_type,
        funders.funded_by,
        case funders.funded_by when 'award' then bids.award_gbp else bids.partner_contribution_gbp end
            as amount_gbp,
        'actual' as status,
        'award in go-live year (no cost profile)' as cost_basis
    from bids
    cross join (values ('award'), ('partner')) as funders (funded_by)
    anti join bid_costs on bids.bid_id = bid_costs.bid_id
),

price_base as (
    select
        bid_id,
        max(price_base_year) as price_base_year
    from benefits
    group by bid_id
),

measured as (
    select
        bid_id,
        cast(left(max(financial_year), 4) as integer) as last_measured_year
    from realisation
    where is_complete_period
    group by bid_id
),

benefit_span as (
    select
        bid_id,
        cast(left(min(financial_year), 4) as integer) as first_benefit_year,
        cast(left(max(financial_year), 4) as integer) as last_benefit_year
    from benefit_cash_flows
    group by bid_id
),

cost_span as (
    select
        bid_id,
        any_value(cost_basis) as cost_basis,
        min(start_year) as first_cost_year,
        max(start_year) as last_cost_year,
        max(start_year) filter (where status = 'actual') as last_paid_year
    from cost_rows
    group by bid_id
),

terms as (
    select
        bids.bid_id,
        bids.project_type,
        bids.optimism_bias,
        cost_span.cost_basis,
        price_base.price_base_year,
        cast(left(price_base.price_base_year, 4) as integer) as base_year,
        cast(left({{ financial_year('bids.go_live_date') }}, 4) as integer) as go_live_year,
        coalesce(bids.appraisal_years, {{ var('appraisal_years_default') }}) as appraisal_years,
        measured.last_measured_year,
        cost_span.first_cost_year,
        cost_span.last_cost_year,
        benefit_span.first_benefit_year,
        benefit_span.last_benefit_year,
        greatest(measured.last_measured_year, cost_span.last_paid_year) as to_date_year
    from bids
    inner join price_base on bids.bid_id = price_base.bid_id
    inner join cost_span on bids.bid_id = cost_span.bid_id
    left join measured on bids.bid_id = measured.bid_id
    left join benefit_span on bids.bid_id = benefit_span.bid_id
),

periods as (
    select
        *,
        least(first_cost_year, go_live_year) as appraisal_start_year,
        go_live_year + appraisal_years - 1 as appraisal_end_year
    from terms
),

grid as (
    select
        periods.*,
        unnest(generate_series(
            least(periods.appraisal_start_year, periods.first_benefit_year),
            greatest(periods.appraisal_end_year, periods.last_cost_year, periods.last_benefit_year)
        )) as start_year
    from periods
),

deflator_series as (
    select
        cast(left(financial_year, 4) as integer) as start_year,
        deflator_index
    from deflators
),

latest_deflator as (
    select
        max(start_year) as last_year,
        arg_max(deflator_index, start_year) as last_index
    from deflator_series
),

deflated_years as (
    select start_year from grid
    union
    select base_year as start_year from periods
),

deflator_years as (
    select
        years.start_year,
        coalesce(
            deflator_series.deflator_index,
            case
                when years.start_year > latest_deflator.last_year
                    then
                        latest_deflator.last_index
                        * power(
                            1 + {{ var('gdp_deflator_forecast_growth') }},
                            years.start_year - latest_deflator.last_year
                        )
            end
        ) as deflator_index
    from deflated_years as years
    cross join latest_deflator
    left join deflator_series on years.start_year = deflator_series.start_year
),

flagged as (
    select
        grid.*,
        base.deflator_index / paid.deflator_index as real_terms_factor,
        coalesce(grid.start_year > grid.last_measured_year, grid.start_year >= grid.go_live_year) as is_forecast,
        coalesce(grid.start_year <= grid.to_date_year, false) as is_to_date,
        grid.start_year between grid.appraisal_start_year and grid.appraisal_end_year as in_appraisal_period
    from grid
    left join deflator_years as paid on grid.start_year = paid.start_year
    left join deflator_years as base on grid.base_year = base.start_year
),

costed as (
    select
        cost_rows.bid_id,
        cost_rows.start_year,
        cost_rows.cost_type,
        cost_rows.funded_by,
        cost_rows.status,
        cost_rows.amount_gbp as cash_gbp,
        cost_rows.amount_gbp * flagged.real_terms_factor as real_gbp,
        case when cost_rows.status = 'planned' then coalesce(bounds.lower_bound, 0) else 0 end
            as optimism_bias_low,
        case when cost_rows.status = 'planned' then coalesce(bounds.upper_bound, 0) else 0 end
            as optimism_bias_high,
        case
            when cost_rows.status = 'planned'
                then coalesce(flagged.optimism_bias, bounds.upper_bound, 0)
            else 0
        end as optimism_bias_headline
    from cost_rows
    inner join flagged on cost_rows.bid_id = flagged.bid_id and cost_rows.start_year = flagged.start_year
    left join optimism_bias_defaults as bounds
        on
            flagged.project_type = bounds.project_type
            and bounds.expenditure_type
            = case cost_rows.cost_type when 'capital' then 'capital' else 'operating' end
),

costs_by_year as (
    select
        bid_id,
        start_year,
        coalesce(sum(cash_gbp) filter (where cost_type = 'capital'), 0) as capital_cost_cash_gbp,
        coalesce(sum(cash_gbp) filter (where cost_type = 'recurring'), 0) as recurring_cost_cash_gbp,
        coalesce(sum(cash_gbp) filter (where funded_by = 'award'), 0) as award_funded_cash_gbp,
        coalesce(sum(real_gbp) filter (where cost_type = 'capital'), 0) as capital_cost_real_gbp,
        coalesce(sum(real_gbp) filter (where cost_type = 'recurring'), 0) as recurring_cost_real_gbp,
        coalesce(sum(real_gbp) filter (where status = 'planned'), 0) as planned_cost_real_gbp,
        sum(real_gbp * (1 + optimism_bias_low)) as cost_real_ob_low_gbp,
        sum(real_gbp * (1 + optimism_bias_high)) as cost_real_ob_high_gbp,
        sum(real_gbp * (1 + optimism_bias_headline)) as cost_real_gbp
    from costed
    group by bid_id, start_year
),

held as (
    -- Each recurring money benefit at its last measured year's real value.
    select
        bid_id,
        category,
        arg_max(real_gbp, financial_year) as real_gbp
    from benefit_cash_flows
    where recurrence = 'recurring'
    group by benefit_id, bid_id, category
),

benefit_rows as (
    select
        bid_id,
        cast(left(financial_year, 4) as integer) as start_year,
        category,
        real_gbp
    from benefit_cash_flows
    union all
    select
        flagged.bid_id,
        flagged.start_year,
        held.category,
        held.real_gbp
    from flagged
    inner join held on flagged.bid_id = held.bid_id
    where flagged.is_forecast and flagged.in_appraisal_period
),

benefits_by_year as (
    select
        bid_id,
        start_year,
        coalesce(sum(real_gbp) filter (where category = 'cashable'), 0) as cashable_benefits_real_gbp,
        coalesce(sum(real_gbp) filter (where category = 'non_cashable'), 0) as non_cashable_benefits_real_gbp
    from benefit_rows
    group by bid_id, start_year
),

yearly as (
    select
        flagged.bid_id,
        flagged.start_year || '-' || lpad(cast((flagged.start_year + 1) % 100 as varchar), 2, '0') as financial_year,
        flagged.price_base_year,
        flagged.start_year - flagged.base_year as years_from_base,
        flagged.cost_basis,
        flagged.in_appraisal_period,
        flagged.is_to_date,
        flagged.is_forecast,
        flagged.real_terms_factor,
        coalesce(costs_by_year.capital_cost_cash_gbp, 0) as capital_cost_cash_gbp,
        coalesce(costs_by_year.recurring_cost_cash_gbp, 0) as recurring_cost_cash_gbp,
        coalesce(costs_by_year.award_funded_cash_gbp, 0) as award_funded_cash_gbp,
        coalesce(costs_by_year.capital_cost_real_gbp, 0) as capital_cost_real_gbp,
        coalesce(costs_by_year.recurring_cost_real_gbp, 0) as recurring_cost_real_gbp,
        coalesce(costs_by_year.planned_cost_real_gbp, 0) as planned_cost_real_gbp,
        coalesce(costs_by_year.cost_real_ob_low_gbp, 0) as cost_real_ob_low_gbp,
        coalesce(costs_by_year.cost_real_ob_high_gbp, 0) as cost_real_ob_high_gbp,
        coalesce(costs_by_year.cost_real_gbp, 0) as cost_real_gbp,
        coalesce(benefits_by_year.cashable_benefits_real_gbp, 0) as cashable_benefits_real_gbp,
        coalesce(benefits_by_year.non_cashable_benefits_real_gbp, 0) as non_cashable_benefits_real_gbp
    from flagged
    left join costs_by_year on flagged.bid_id = costs_by_year.bid_id and flagged.start_year = costs_by_year.start_year
    left join benefits_by_year
        on flagged.bid_id = benefits_by_year.bid_id and flagged.start_year = benefits_by_year.start_year
),

discounted as (
    select
        *,
        cashable_benefits_real_gbp + non_cashable_benefits_real_gbp as benefits_real_gbp,
        {{ discount_factor('years_from_base') }} as discount_factor
    from yearly
),

final as (
    select
        bid_id,
        financial_year,
        price_base_year,
        years_from_base,
        cost_basis,
        in_appraisal_period,
        is_to_date,
        is_forecast,
        real_terms_factor,
        capital_cost_cash_gbp,
        recurring_cost_cash_gbp,
        award_funded_cash_gbp,
        capital_cost_real_gbp,
        recurring_cost_real_gbp,
        planned_cost_real_gbp,
        cost_real_ob_low_gbp,
        cost_real_ob_high_gbp,
        cost_real_gbp,
        cashable_benefits_real_gbp,
        non_cashable_benefits_real_gbp,
        benefits_real_gbp,
        discount_factor,
        benefits_real_gbp * discount_factor as pv_benefits_gbp,
        cost_real_gbp * discount_factor as pv_cost_gbp,
        cost_real_ob_low_gbp * discount_factor as pv_cost_ob_low_gbp,
        cost_real_ob_high_gbp * discount_factor as pv_cost_ob_high_gbp,
        (benefits_real_gbp - cost_real_gbp) * discount_factor as pv_net_gbp
    from discounted
)

select * from final
