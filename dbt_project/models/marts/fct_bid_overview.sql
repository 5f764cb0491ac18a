-- Per bid, what the Overview shows: money promised against money realised (cashable and
-- non-cashable kept apart), service measures on track, how many benefits are green, amber and
-- red, the bid's status (the worst of its benefits) and its value in present terms
-- (fct_bid_value). Money benefits are the register's pounds, the bid's attribution share only,
-- so a saving two bids share counts once: promised is the register's change from baseline to
-- target, realised the attributed improvement. Recurring savings (a year's: the benefit's latest
-- complete financial year) and one-off money such as capital receipts (to date) are kept apart:
-- a year's saving and receipts to date do not add up to anything. A bid with no benefits in the
-- register has no figures. A view: one row per bid, worked out when read, so it always agrees
-- with the marts it reads in the same file.
--
-- Statuses and money come from each benefit's latest complete financial year: a year in
-- progress never sets them, however little or much of it has happened; it is shown beside them
-- as the year to date, with its incidents so far. The bid's status is the worst of its
-- benefits' in this order: red, amber, too_little_data, green, not_due. Too little data ranks
-- above green: a bid with a benefit that cannot be judged is not on track on the others alone.
{{ config(materialized='view', persist_docs=view_persist_docs()) }}
{%- set money = "promised.unit = 'gbp' and promised.category in ('cashable', 'non_cashable')" %}
{%- set recurring = "promised.recurrence = 'recurring'" %}

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

bid_value as (
    select * from {{ ref('fct_bid_value') }}
),

promised as (
    select
        bid_id,
        benefit_id,
        category,
        recurrence,
        unit,
        abs(target_value - baseline_value) * attribution_share as promised_value
    from benefits
),

latest as (
    select
        benefit_id,
        financial_year,
        attributed_improvement,
        status,
        coalesce(improvement_basis = 'counterfactual' and not is_estimate_reliable, false)
            as on_unreliable_estimate
    from realisation
    where is_complete_period
    qualify row_number() over (partition by benefit_id order by financial_year desc) = 1
),

-- Each measured area's year in progress once, though two of a bid's benefits read it.
in_progress as (
    select distinct
        benefits.bid_id,
        benefits.measure,
        benefits.measure_county,
        benefits.measure_scope,
        realisation.financial_year,
        realisation.observations
    from realisation
    inner join benefits on realisation.benefit_id = benefits.benefit_id
    where not realisation.is_complete_period
),

year_to_date as (
    select
        bid_id,
        financial_year as year_to_date,
        sum(observations) as year_to_date_observations
    from in_progress
    group by bid_id, financial_year
    qualify row_number() over (partition by bid_id order by financial_year desc) = 1
),

per_bid as (
    select
        promised.bid_id,
        max(latest.financial_year) as latest_year,
        coalesce(sum(promised.promised_value) filter (
            where {{ money }} and promised.category = 'cashable' and {{ recurring }}
        ), 0) as cashable_promised_gbp,
        coalesce(sum(latest.attributed_improvement) filter (
            where {{ money }} and promised.category = 'cashable' and {{ recurring }}
        ), 0) as cashable_realised_gbp,
        coalesce(sum(promised.promised_value) filter (
            where {{ money }} and promised.category = 'non_cashable' and {{ recurring }}
        ), 0) as non_cashable_promised_gbp,
        coalesce(sum(latest.attributed_improvement) filter (
            where {{ money }} and promised.category = 'non_cashable' and {{ recurring }}
        ), 0) as non_cashable_realised_gbp,
        coalesce(sum(promised.promised_value) filter (
            where {{ money }} and not {{ recurring }}
        ), 0) as one_off_promised_gbp,
        coalesce(sum(latest.attributed_improvement) filter (
            where {{ money }} and not {{ recurring }}
        ), 0) as one_off_realised_gbp,
        count(*) filter (where promised.unit != 'gbp') as service_measures,
        count(*) filter (
            where promised.unit != 'gbp' and latest.status = 'green'
        ) as service_measures_on_track,
        count(*) filter (where latest.status = 'green') as benefits_green,
        count(*) filter (where latest.status = 'amber') as benefits_amber,
        count(*) filter (where latest.status = 'red') as benefits_red,
        count(*) filter (where latest.status = 'too_little_data') as benefits_too_little_data,
        count(*) filter (where latest.on_unreliable_estimate) as benefits_on_unreliable_estimates,
        case
            when bool_or(latest.status = 'red') then 'red'
            when bool_or(latest.status = 'amber') then 'amber'
            when bool_or(latest.status = 'too_little_data') then 'too_little_data'
            when bool_or(latest.status = 'green') then 'green'
            else 'not_due'
        end as status
    from promised
    left join latest on promised.benefit_id = latest.benefit_id
    group by promised.bid_id
),

final as (
    select
        bids.bid_id,
        bids.title,
        bids.county,
        bids.go_live_date,
        per_bid.latest_year,
        per_bid.cashable_promised_gbp,
        per_bid.cashable_realised_gbp,
        per_bid.non_cashable_promised_gbp,
        per_bid.non_cashable_realised_gbp,
        per_bid.one_off_promised_gbp,
        per_bid.one_off_realised_gbp,
        per_bid.service_measures,
        per_bid.service_measures_on_track,
        per_bid.benefits_green,
        per_bid.benefits_amber,
        per_bid.benefits_red,
        per_bid.benefits_too_little_data,
        per_bid.benefits_on_unreliable_estimates,
        per_bid.status,
        year_to_date.year_to_date,
        year_to_date.year_to_date_observations,
        bid_value.price_base_year,
        bid_value.pv_benefits_gbp,
        bid_value.pv_cost_gbp,
        bid_value.npv_gbp,
        bid_value.benefit_cost_ratio,
        bid_value.payback_year
    from bids
    left join per_bid on bids.bid_id = per_bid.bid_id
    left join bid_value on bids.bid_id = bid_value.bid_id
    left join year_to_date on bids.bid_id = year_to_date.bid_id
)

select * from final
