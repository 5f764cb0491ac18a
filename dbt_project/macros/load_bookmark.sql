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
    the load id's day: on the day of `load_id` the condition alone skips nothing, and read every
    row's id (docs/performance.md). So `_loaded_at` is bounded too, by the first time those
    loads were written: `audit.first_loaded_at`, a DuckDB macro the warehouse's schema defines
    (flows/warehouse/schema.py), NULL when a load was recorded without its time. -#}
{% macro loaded_from(load_id, alias='', op='>=') -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {%- set query -%}
        select audit.first_loaded_at('{{ load_id }}', {{ 'true' if op == '>=' else 'false' }})
    {%- endset -%}
    {%- set since = run_query(query).columns[0].values()[0] if execute else none -%}
    {{ prefix }}_load_id {{ op }} '{{ load_id }}'
    {%- if since %}
        and {{ prefix }}_loaded_at >= timestamp '{{ since }}'
    {%- endif -%}
{%- endmacro %}
