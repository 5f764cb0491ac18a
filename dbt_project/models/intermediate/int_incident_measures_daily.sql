-- Each incident measure per district (with its county and rural/urban class) and day of the
-- call: the incidents and the sums a mean and a variance need, so the yearly measures and the
-- district panels of the counterfactual and attribution read daily sums instead of every fire
-- and cardiac-arrest incident (27 s of one more night's dbt at national scale). The district is
-- the unit the counterfactual compares (fct_benefit_counterfactual), so it is in the grain.
--
-- Incremental by day, like fct_response_times_monthly by month: a run recomputes every day an
-- incident loaded since the last build falls in, or fell in before a newer version moved it
-- (macros/touched_incident_periods.sql), and leaves the other days as they were.
{{ config(
    materialized='incremental',
    unique_key='call_date',
    incremental_strategy='delete+insert',
    pre_hook="{{ delete_touched_incident_periods('call_date', 'day') }}",
) }}

with

measures as (
    select * from {{ ref('int_incident_measures') }}
    {%- if is_incremental() %}
        where {{ touched_incident_periods('call_at', 'day') }}
    {%- endif %}
),

final as (
    select
        measure,
        district_code,
        county,
        rural_urban,
        cast(call_at as date) as call_date,
        financial_year,
        count(*) as observations,
        sum(measure_value) as value_sum,
        sum(measure_value * measure_value) as value_sum_of_squares,
        max(_load_id) as last_load_id
    from measures
    group by measure, district_code, county, rural_urban, call_date, financial_year
)

select * from final
