{#- Fails for every row where the expression is not true (dbt Hub packages cannot be fetched here). -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
