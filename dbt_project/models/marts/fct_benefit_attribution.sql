-- How much of the change since go-live is the collaboration's doing: difference in differences.
-- For each benefit tracked by an incident measure, the measure's mean in the treated county
-- (the benefit's measure_county and scope) and in every other county (the comparison), over
-- var('attribution_window_years') before and after go-live:
--   estimate = (treated after - treated before) - (comparison after - comparison before)
-- with a 95% interval from the four means' standard errors (independent samples). A call on
-- go-live day counts as after: the window compares days (int_incident_measures_daily).
with

benefits as (
    select * from {{ ref('dim_benefits') }}
),

incident_days as (
    select * from {{ ref('int_incident_measures_daily') }}
),

windowed as (
    select
        benefits.benefit_id,
        incident_days.observations,
        incident_days.value_sum,
        incident_days.value_sum_of_squares,
        case when incident_days.county = benefits.measure_county then 'treated' else 'comparison' end as arm,
        case when incident_days.call_date < benefits.go_live_date then 'before' else 'after' end as period
    from benefits
    inner join incident_days
        on
            benefits.measure = incident_days.measure
            and (benefits.measure_scope = 'all' or benefits.measure_scope = incident_days.rural_urban)
            and incident_days.call_date >= benefits.go_live_date - to_years({{ var('attribution_window_years') }})
            and incident_days.call_date < benefits.go_live_date + to_years({{ var('attribution_window_years') }})
),

-- Each cell's mean and sample variance from the daily sums: the variance is
-- (sum of squares - sum^2 / n) / (n - 1), and one incident has none.
cells as (
    select
        benefit_id,
        arm,
        period,
        cast(sum(observations) as bigint) as observations,
        sum(value_sum) / sum(observations) as mean_value,
        -- Never below 0: equal values can leave a rounding error's worth under it.
        case
            when sum(observations) > 1
                then
                    greatest(
                        sum(value_sum_of_squares) - sum(value_sum) * sum(value_sum) / sum(observations),
                        0
                    )
                    / (sum(observations) - 1)
                    / sum(observations)
        end as variance_of_mean
    from windowed
    group by benefit_id, arm, period
),

pivoted as (
    select
        benefit_id,
        max(case when arm = 'treated' and period = 'before' then mean_value end) as treated_before,
        max(case when arm = 'treated' and period = 'after' then mean_value end) as treated_after,
        max(case when arm = 'comparison' and period = 'before' then mean_value end) as comparison_before,
        max(case when arm = 'comparison' and period = 'after' then mean_value end) as comparison_after,
        sum(variance_of_mean) as variance_of_estimate,
        min(observations) as smallest_cell,
        sum(observations) as observations
    from cells
    group by benefit_id
),

final as (
    select
        benefits.benefit_id,
        benefits.bid_id,
        benefits.measure,
        benefits.unit,
        benefits.go_live_date,
        pivoted.treated_before,
        pivoted.treated_after,
        pivoted.treated_after - pivoted.treated_before as before_after_change,
        pivoted.comparison_before,
        pivoted.comparison_after,
        pivoted.comparison_after - pivoted.comparison_before as comparison_change,
        (pivoted.treated_after - pivoted.treated_before)
        - (pivoted.comparison_after - pivoted.comparison_before) as estimate,
        sqrt(pivoted.variance_of_estimate) as standard_error,
        (pivoted.treated_after - pivoted.treated_before)
        - (pivoted.comparison_after - pivoted.comparison_before)
        - 1.96 * sqrt(pivoted.variance_of_estimate) as ci_low,
        (pivoted.treated_after - pivoted.treated_before)
        - (pivoted.comparison_after - pivoted.comparison_before)
        + 1.96 * sqrt(pivoted.variance_of_estimate) as ci_high,
        pivoted.observations,
        pivoted.smallest_cell
    from benefits
    inner join pivoted on benefits.benefit_id = pivoted.benefit_id
    where pivoted.comparison_before is not null and pivoted.comparison_after is not null
)

select * from final
