-- Per benefit and financial year: baseline, profiled target, actual and how much is realised.
-- Money actuals are restated in real terms at the register's price base year (seed
-- gdp_deflators), the prices its baseline and target are in; the cash figure stays beside them.
-- The target is profiled in a straight line from the baseline at go-live to the target value at
-- the target date. Improvement is the bid's effect against the counterfactual (what the measure
-- would have been without the bid: fct_benefit_counterfactual), with its 95% interval and
-- whether the estimate is reliable; where there is no counterfactual estimate for the year (no
-- comparison units) it is the plain before/after change, and improvement_basis says which.
-- The before/after change is kept beside it, labelled as such. Improvement is signed so that
-- positive is good whatever the direction; the bid's attribution share is applied so one saving
-- shared by two bids is never counted twice.
--
-- Status compares the improvement with the profile, on complete evidence only. A year whose data
-- does not yet run to its end (int_benefit_measures.data_through_date) is in progress: its
-- figures are kept, as a year to date, and its status is 'year_to_date', never a judgement. A
-- complete year of a statistic over incidents with fewer than var('status_min_observations')
-- incidents is 'too_little_data': one long call moves a mean of a few. An annual return's figure
-- is the whole year's, whatever its row count, so the minimum does not apply to it.
with

benefits as (
    select * from {{ ref('dim_benefits') }}
),

measures as (
    select * from {{ ref('int_benefit_measures') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

counterfactual as (
    select * from {{ ref('fct_benefit_counterfactual') }}
),

periods as (
    select
        benefits.*,
        measures.financial_year,
        measures.period_end_date,
        measures.data_through_date,
        measures.data_through_date >= measures.period_end_date as is_complete_period,
        measures.measured_from,
        measures.measure_value as actual_cash_value,
        case
            when benefits.unit = 'gbp' then measures.value_per_deflator_point * base.deflator_index
            else measures.measure_value
        end as actual_value,
        measures.observations
    from benefits
    inner join measures
        on
            benefits.measure = measures.measure
            and benefits.measure_county = measures.county
            and benefits.measure_scope = measures.scope
            and benefits.baseline_period <= measures.financial_year
    inner join deflators as base on benefits.price_base_year = base.financial_year
),

profiled as (
    select
        *,
        case
            when period_end_date <= go_live_date then baseline_value
            when period_end_date >= target_date then target_value
            else
                baseline_value + (target_value - baseline_value)
                * date_diff('day', go_live_date, period_end_date)
                / date_diff('day', go_live_date, target_date)
        end as profiled_target_value,
        case when direction = 'decrease' then -1 else 1 end as sign
    from periods
),

measured as (
    select
        profiled.*,
        profiled.sign * (profiled.actual_value - profiled.baseline_value) as before_after_improvement,
        counterfactual.counterfactual_value,
        counterfactual.improvement as counterfactual_improvement,
        counterfactual.improvement_ci_low,
        counterfactual.improvement_ci_high,
        counterfactual.is_reliable as is_estimate_reliable,
        counterfactual.reliability_note,
        counterfactual.method as estimate_method,
        profiled.sign * (profiled.target_value - profiled.baseline_value) as promised_improvement,
        profiled.sign * (profiled.profiled_target_value - profiled.baseline_value) as profiled_improvement
    from profiled
    left join counterfactual
        on
            profiled.benefit_id = counterfactual.benefit_id
            and profiled.financial_year = counterfactual.financial_year
),

chosen as (
    select
        *,
        coalesce(counterfactual_improvement, before_after_improvement) as improvement,
        case
            when counterfactual_improvement is null
                then 'before/after (no counterfactual estimate: no comparison units that year)'
            when starts_with(estimate_method, 'before/after') then estimate_method
            else 'counterfactual'
        end as improvement_basis
    from measured
),

final as (
    select
        benefit_id,
        bid_id,
        financial_year,
        period_end_date,
        data_through_date,
        is_complete_period,
        category,
        recurrence,
        unit,
        direction,
        baseline_value,
        target_value,
        profiled_target_value,
        actual_value,
        actual_cash_value,
        observations,
        actual_value - profiled_target_value as variance_to_profile,
        counterfactual_value,
        before_after_improvement,
        improvement,
        improvement_ci_low,
        improvement_ci_high,
        improvement_basis,
        estimate_method,
        is_estimate_reliable,
        reliability_note,
        attribution_share,
        improvement * attribution_share as attributed_improvement,
        improvement / nullif(promised_improvement, 0) as share_of_target_realised,
        improvement / nullif(profiled_improvement, 0) as share_of_profile_realised,
        case
            when not is_complete_period then 'year_to_date'
            when profiled_improvement = 0 then 'not_due'
            when measured_from = 'incidents' and observations < {{ var('status_min_observations') }}
                then 'too_little_data'
            when improvement / profiled_improvement >= {{ var('rag_green_threshold') }} then 'green'
            when improvement / profiled_improvement >= {{ var('rag_amber_threshold') }} then 'amber'
            else 'red'
        end as status
    from chosen
)

select * from final
