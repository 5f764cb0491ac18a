-- Calendar months with the UK financial year (April to March) each falls in, April 2000 to
-- March 2051: the one place outside dbt's models that needs a financial year (the dashboard)
-- reads it here, so the arithmetic lives only in macros/financial_year.sql.
with months as (
    select cast(range as date) as month
    from range(date '2000-04-01', date '2051-04-01', interval 1 month)
),

final as (
    select
        month,
        {{ financial_year('month') }} as financial_year
    from months
)

select * from final
