{#- What a view keeps of its documentation as comments: its own description and its columns'
    on the file backend; a DuckLake keeps no comment on a view's columns ("Cannot comment on
    columns ... it is not a table"), so on the lake target (flows/transform/dbt.py) the view's
    own only. Its columns stay documented in the dbt docs either way. (`target` is dbt's; the
    SQL linter renders without it.) -#}
{% macro view_persist_docs() %}
    {% set on_lake = target is defined and target.name == 'lake' %}
    {{ return({'relation': true, 'columns': not on_lake}) }}
{% endmacro %}
