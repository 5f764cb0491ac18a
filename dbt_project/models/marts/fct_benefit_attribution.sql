-- How much of the change since go-live is the collaboration's doing: difference in differences.
-- For each benefit tracked by an incident measure, the measure's mean in the treated county
-- (the benefit's measure_county and scope) and in every other county (the comparison), over
-- var('attribution_window_years') before and after go-live:
--   estimate = (treated after - treated before) - (comparison after - comparison before)
-- with a 95% interval from the four means' standard errors (independent samples).
with

benefits as (
    select * from {{ ref('dim_benefits') }}
),

observations as (
    select * from {{ ref('int_incident_measures') }}
),

windowed as (
    select
        benefits.benefit_id,
        observations.measure_value,
        case when observations.county = benefits.measure_county then 'treated' else 'comparison' end as arm,
        case when observations.call_at < benefits.go_live_date then 'before' else 'after' end as period
    from benefits
    inner join observations
        on
            benefits.measure = observations.measure
            and (benefits.measure_scope = 'all' or benefits.measure_scope = observations.rural_urban)
            and observations.call_at >= benefits.go_live_date - to_years({{ var('attribution_window_years') }})
            and observations.call_at < benefits.go_live_date + to_years({{ var('attribution_window_years') }})
),

cells as (
    select
        benefit_id,
        arm,
        period,
        count(*) as observations,
        avg(measure_value) as mean_value,
        var_samp(measure_value) / count(*) as variance_of_mean
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
