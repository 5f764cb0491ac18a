{#- The newest load an incremental model already holds (its bookmark: load ids rise with time),
    found when the model runs. -#}
{% macro load_bookmark(column='_load_id') -%}
    {{- run_query('select coalesce(max(' ~ column ~ "), '') from " ~ this).columns[0].values()[0] if execute else '' -}}
{%- endmacro %}

{#- Rows loaded since the bookmark, as a condition with the bookmark written in as a constant:
    compared with a subquery, DuckDB read the column of every row (docs/performance.md). -#}
{% macro loaded_since_bookmark(column='_load_id', alias='') -%}
    {{- loaded_from(load_bookmark(column), alias, '>') -}}
{%- endmacro %}

{#- Rows of load `load_id` and later (`op` '>=') or of the loads after it ('>'), as a condition on
    `alias`'s lineage. DuckDB's row-group min/max of a text column keeps only its first 8 bytes,
    the load id's day: on the day of `load_id` the condition alone skips nothing, and read all
    of raw's ids (docs/performance.md). So `_loaded_at` is bounded too, which the load id
    implies: a load id begins with the start of its run (flows/runlog.py, new_run_id), and a
    row is loaded after its run starts. -#}
{% macro loaded_from(load_id, alias='', op='>=') -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {{ prefix }}_load_id {{ op }} '{{ load_id }}'
    {%- if load_id[:8].isdigit() and load_id[8:9] == 'T' and load_id[9:15].isdigit() %}
        and {{ prefix }}_loaded_at >= strptime('{{ load_id[:15] }}', '%Y%m%dT%H%M%S')
    {%- endif -%}
{%- endmacro %}
