-- The method's parameters this build used, one row each, from the vars in dbt_project.yml: the
-- dashboard's help text reads them here, so every page and every kept version states the
-- thresholds and rates its own figures were computed with.
{%- set parameters = [
    ('rag_green_threshold', 'share', 'Share of the profiled improvement realised at or above which a benefit is green (on track).'),
    ('rag_amber_threshold', 'share', 'Share of the profiled improvement realised at or above which a benefit is amber (slipping); below it, red (off track).'),
    ('status_min_observations', 'incidents', 'Fewest incidents in a complete financial year for a statistic over incidents (a mean response or call handling time) to be given a status; below it the status is too little data. Annual returns are whole figures and need no minimum.'),
    ('attribution_window_years', 'years', 'Years before and after go-live compared in the difference in differences.'),
    ('discount_rate', 'share a year', 'HM Treasury Green Book discount rate applied to real cash flows, years 0 to discount_rate_years from the price base year.'),
    ('discount_rate_years', 'years', 'Years from the price base year discounted at discount_rate; later years at discount_rate_long_term (Green Book: 30).'),
    ('discount_rate_long_term', 'share a year', 'HM Treasury Green Book discount rate for years after discount_rate_years (3.0% for years 31 to 75).'),
    ('appraisal_years_default', 'years', 'Years of benefits a bid is appraised over from its go-live year when its bids file gives no appraisal_years.'),
    ('gdp_deflator_forecast_growth', 'share a year', 'GDP deflator growth assumed after the last year of the gdp_deflators seed, to put planned costs in cash into real terms.'),
] %}

with

final as (
    select
        in_force.parameter_name as parameter,
        cast(in_force.value as double) as value,
        in_force.unit,
        in_force.description
    from (
        values
        {%- for name, unit, description in parameters %}
            ('{{ name }}', {{ var(name) }}, '{{ unit }}', '{{ description }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as in_force (parameter_name, value, unit, description)
)

select * from final
