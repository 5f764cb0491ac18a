-- Money benefits per benefit and financial year after go-live: real terms at the register's price
-- base year (realisation already restates money there), the cash equivalent in the year's prices
-- (GDP deflator seed), and present value discounted to the price base year by the Green Book's
-- schedule (macro discount_factor: 3.5% a year to year 30, 3.0% a year after). Recurring savings
-- count each year's attributed improvement; one-off benefits (cumulative measures) count each
-- year's increase. Measured years only, and complete ones (a year to date is not a year's
-- saving): fct_bid_cash_flows forecasts the years after.
with

realisation as (
    select * from {{ ref('fct_benefit_realisation') }}
),

benefits as (
    select * from {{ ref('dim_benefits') }}
),

deflators as (
    select * from {{ ref('gdp_deflators') }}
),

money as (
    select
        realisation.benefit_id,
        realisation.bid_id,
        realisation.financial_year,
        realisation.category,
        realisation.recurrence,
        benefits.price_base_year,
        case
            when realisation.recurrence = 'recurring' then realisation.attributed_improvement
            else realisation.attributed_improvement - coalesce(lag(realisation.attributed_improvement) over (
                partition by realisation.benefit_id order by realisation.financial_year
            ), 0)
        end as real_gbp,
        realisation.status,
        realisation.is_complete_period
    from realisation
    inner join benefits on realisation.benefit_id = benefits.benefit_id
    where realisation.unit = 'gbp' and realisation.category in ('cashable', 'non_cashable')
),

valued as (
    select
        money.benefit_id,
        money.bid_id,
        money.financial_year,
        money.category,
        money.recurrence,
        money.price_base_year,
        money.real_gbp * year_deflator.deflator_index / base.deflator_index as cash_gbp,
        money.real_gbp,
        cast(left(money.financial_year, 4) as integer) - cast(left(money.price_base_year, 4) as integer)
            as years_from_base
    from money
    inner join deflators as year_deflator on money.financial_year = year_deflator.financial_year
    inner join deflators as base on money.price_base_year = base.financial_year
    where money.status != 'not_due' and money.is_complete_period
),

final as (
    select
        benefit_id,
        bid_id,
        financial_year,
        category,
        recurrence,
        price_base_year,
        years_from_base,
        cash_gbp,
        real_gbp,
        real_gbp * {{ discount_factor('years_from_base') }} as present_value_gbp
    from valued
)

select * from final
