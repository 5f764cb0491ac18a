{#- The newest load an incremental model already holds (its bookmark: load ids rise with time),
    written in as a constant found when the model runs. Compared with a constant, DuckDB skips
    the row groups of older loads by their min/max; compared with a subquery, it read the column
    of every row (docs/performance.md). -#}
{% macro load_bookmark(column='_load_id') -%}
    {%- set query = 'select coalesce(max(' ~ column ~ "), '') from " ~ this -%}
    '{{ run_query(query).columns[0].values()[0] if execute else "" }}'
{%- endmacro %}
