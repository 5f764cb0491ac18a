{#- What a view keeps of its documentation as comments: its own description and its columns'
    on the file backend; a DuckLake keeps no comment on a view's columns ("Cannot comment on
    columns ... it is not a table"), so on the lake target (flows/transform/dbt.py) the view's
    own only. Its columns stay documented in the dbt docs either way. -#}
{% macro view_persist_docs() %}
    {{ return({'relation': true, 'columns': target.name != 'lake'}) }}
{% endmacro %}
