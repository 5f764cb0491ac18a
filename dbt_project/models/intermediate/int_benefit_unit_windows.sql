-- The unit-level panel of each benefit's attribution (fct_benefit_attribution): for each of its
-- units (int_benefit_units), the unit's mean in the windows around go-live, W =
-- var('attribution_window_years') years:
--   before          [go-live - W, go-live)          after           [go-live, go-live + W)
--   placebo before  [go-live - W, go-live - W/2)    placebo after   [go-live - W/2, go-live)
-- The placebo windows split the before window at a fake go-live half of it earlier, so the
-- placebo uses only data from before the real go-live.
-- A district's observations are its incidents, by day (int_incident_measures_daily: a call on
-- go-live day counts as after); a police site's are its financial years, each wholly inside a
-- window to count in it (a year go-live falls inside is in neither before nor after), at its
-- running cost in real terms at the benefit's price base year, 0 after it left the return
-- (a site counts only if it is in the return at some time in the before window).
-- pre_slope_per_year is the unit's least-squares slope over the before window (per year; each
-- incident, or each site-year, one point), for the pre-trend test; null with fewer than two
-- distinct days or years to fit it on. Each unit has a row, with 0 observations where it has
-- none.
with

benefits as (
    select * from {{ ref('stg_agency__benefits_register') }}
),

bids as (
    select * from {{ ref('stg_agency__bids') }}
),

units as (
    select * from {{ ref('int_benefit_units') }}
),

incident_days as (
    select * from {{ ref('int_incident_measures_daily') }}
),

site_years as (
    select * from {{ ref('int_police_estate_site_years') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

windows as (
    select
        benefits.benefit_id,
        benefits.price_base_year,
        bids.go_live_date,
        cast(bids.go_live_date - to_months(12 * {{ var('attribution_window_years') }}) as date) as window_start,
        cast(bids.go_live_date + to_months(12 * {{ var('attribution_window_years') }}) as date) as window_end,
        cast(bids.go_live_date - to_months(6 * {{ var('attribution_window_years') }}) as date)
            as placebo_go_live_date
    from benefits
    inner join bids on benefits.bid_id = bids.bid_id
),

-- Each unit's observations as periods [period_start, period_end): a district's days, a site's
-- financial years.
district_periods as (
    select
        units.benefit_id,
        units.unit_id,
        incident_days.call_date as period_start,
        cast(incident_days.call_date + interval 1 day as date) as period_end,
        incident_days.observations,
        incident_days.value_sum,
        true as in_return
    from units
    inner join windows on units.benefit_id = windows.benefit_id
    inner join incident_days
        on
            units.unit_type = 'district'
            and units.measure = incident_days.measure
            and units.unit_id = incident_days.district_code
            and windows.window_start <= incident_days.call_date
            and windows.window_end > incident_days.call_date
),

site_periods as (
    select
        units.benefit_id,
        units.unit_id,
        make_date(cast(left(site_years.financial_year, 4) as integer), 4, 1) as period_start,
        make_date(cast(left(site_years.financial_year, 4) as integer) + 1, 4, 1) as period_end,
        cast(1 as bigint) as observations,
        site_years.cost_per_deflator_point * base.deflator_index as value_sum,
        site_years.in_return
    from units
    inner join site_years
        on
            units.unit_type = 'site'
            and units.unit_id = site_years.site_id
    inner join windows on units.benefit_id = windows.benefit_id
    inner join deflators as base on windows.price_base_year = base.financial_year
),

periods as (
    select * from district_periods
    union all
    select * from site_periods
),

labelled as (
    select
        periods.*,
        date_diff('day', windows.window_start, periods.period_start) / 365.25 as years_in,
        periods.period_start >= windows.window_start
        and periods.period_end <= windows.go_live_date as is_before,
        periods.period_start >= windows.go_live_date
        and periods.period_end <= windows.window_end as is_after,
        periods.period_start >= windows.window_start
        and periods.period_end <= windows.placebo_go_live_date as is_placebo_before,
        periods.period_start >= windows.placebo_go_live_date
        and periods.period_end <= windows.go_live_date as is_placebo_after
    from periods
    inner join windows on periods.benefit_id = windows.benefit_id
    where periods.period_start >= windows.window_start and periods.period_end <= windows.window_end
),

-- Sums over each window; for the before window also those of a weighted least-squares line
-- (n, sum t, sum t^2, sum y, sum t*y, with t in years since the window start).
sums as (
    select
        benefit_id,
        unit_id,
        sum(observations) filter (where is_before) as before_observations,
        sum(value_sum) filter (where is_before) as before_sum,
        sum(observations) filter (where is_after) as after_observations,
        sum(value_sum) filter (where is_after) as after_sum,
        sum(observations) filter (where is_placebo_before) as placebo_before_observations,
        sum(value_sum) filter (where is_placebo_before) as placebo_before_sum,
        sum(observations) filter (where is_placebo_after) as placebo_after_observations,
        sum(value_sum) filter (where is_placebo_after) as placebo_after_sum,
        count(distinct period_start) filter (where is_before) as before_periods,
        sum(observations * years_in) filter (where is_before) as before_sum_t,
        sum(observations * years_in * years_in) filter (where is_before) as before_sum_tt,
        sum(value_sum * years_in) filter (where is_before) as before_sum_ty
    from labelled
    group by benefit_id, unit_id
    -- A site only once it is in the return before go-live: one gone before the window, or
    -- opened after go-live, has no change of its own to measure.
    having bool_or(in_return and is_before)
),

final as (
    select
        units.benefit_id,
        units.measure,
        units.unit_type,
        units.unit_id,
        units.county,
        units.rural_urban,
        units.arm,
        windows.go_live_date,
        windows.window_start,
        windows.window_end,
        windows.placebo_go_live_date,
        cast(coalesce(sums.before_observations, 0) as bigint) as before_observations,
        sums.before_sum / nullif(sums.before_observations, 0) as before_mean,
        cast(coalesce(sums.after_observations, 0) as bigint) as after_observations,
        sums.after_sum / nullif(sums.after_observations, 0) as after_mean,
        cast(coalesce(sums.placebo_before_observations, 0) as bigint) as placebo_before_observations,
        sums.placebo_before_sum / nullif(sums.placebo_before_observations, 0) as placebo_before_mean,
        cast(coalesce(sums.placebo_after_observations, 0) as bigint) as placebo_after_observations,
        sums.placebo_after_sum / nullif(sums.placebo_after_observations, 0) as placebo_after_mean,
        case
            when sums.before_periods >= 2
                then
                    (sums.before_observations * sums.before_sum_ty - sums.before_sum_t * sums.before_sum)
                    / (sums.before_observations * sums.before_sum_tt - sums.before_sum_t * sums.before_sum_t)
        end as pre_slope_per_year
    from units
    inner join windows on units.benefit_id = windows.benefit_id
    left join sums
        on
            units.benefit_id = sums.benefit_id
            and units.unit_id = sums.unit_id
)

select * from final
