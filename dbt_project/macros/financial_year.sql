{#- UK financial year label (April to March) of a date, e.g. 2016-05-01 -> '2016-17'. -#}
{% macro financial_year(date_expression) -%}
    (
        cast(year({{ date_expression }}) - case when month({{ date_expression }}) < 4 then 1 else 0 end as varchar)
        || '-'
        || lpad(cast((year({{ date_expression }}) + case when month({{ date_expression }}) < 4 then 0 else 1 end) % 100 as varchar), 2, '0')
    )
{%- endmacro %}
