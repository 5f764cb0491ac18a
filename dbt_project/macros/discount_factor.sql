{#- The HM Treasury Green Book discount factor for a sum `years_expression` years after the price
    base year: 1 / (1 + r)^t for t up to var('discount_rate_years') (30), r = var('discount_rate')
    (3.5%); after that the year-30 factor divided by (1 + r_long) for each further year, r_long =
    var('discount_rate_long_term') (3.0%, the Green Book's rate for years 31 to 75). A negative t
    (a sum paid before the price base year) compounds forward at r. Every model that discounts calls
    this, so the schedule is stated once. `rate` and `long_term_rate` take other SQL expressions
    (the sensitivity scenarios); `switch_years` the year the long-term rate starts after. -#}
{% macro discount_factor(years_expression, rate=none, long_term_rate=none, switch_years=none) -%}
    {%- set rate = var('discount_rate') if rate is none else rate -%}
    {%- set long_term_rate = var('discount_rate_long_term') if long_term_rate is none else long_term_rate -%}
    {%- set switch_years = var('discount_rate_years') if switch_years is none else switch_years -%}
    (
        case
            when ({{ years_expression }}) <= {{ switch_years }}
                then power(1 + ({{ rate }}), -({{ years_expression }}))
            else
                power(1 + ({{ rate }}), -{{ switch_years }})
                * power(1 + ({{ long_term_rate }}), -(({{ years_expression }}) - {{ switch_years }}))
        end
    )
{%- endmacro %}
