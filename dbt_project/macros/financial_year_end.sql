{#- Last day (31 March) of a UK financial year label, e.g. '2016-17' -> 2017-03-31. -#}
{% macro financial_year_end(label_expression) -%}
    make_date(cast(left({{ label_expression }}, 4) as integer) + 1, 3, 31)
{%- endmacro %}
