{#- A night's tests of an incremental model look only at the rows that night loaded: older rows
    were tested on the night they came, and an incremental run never rewrites them (it deletes
    and re-inserts by key only what the new loads bring). So do a view's that says so with
    `meta: {tested_by_load: true}`: one whose older rows change only in a full build (over the
    incremental models, and over boundaries, whose load rebuilds in full). Each test of such a
    view read every incident each night. The nightly flow names the night's first load in
    BLUELIGHT_TESTS_FROM_LOAD; a full refresh (or dbt by hand) tests every row. A test's own
    `where` config still applies. Where the model has `_loaded_at`, the load's time bounds it
    too, so DuckDB skips older row groups (macros/load_bookmark.sql). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {#- Read only when running: an env var read while parsing makes dbt re-parse on each new value. -#}
    {%- set from_load = env_var('BLUELIGHT_TESTS_FROM_LOAD', '') if execute else '' -%}
    {%- set tested = graph.nodes.get(model.attached_node) if from_load and model.attached_node else none -%}
    {%- set rows_fixed = tested and (tested.config.materialized == 'incremental'
        or tested.config.meta.get('tested_by_load', false)) -%}
    {%- if rows_fixed and '_load_id' in tested.columns and not flags.FULL_REFRESH -%}
        {%- if '_loaded_at' in tested.columns -%}
            {%- do conditions.append(loaded_from(from_load)) -%}
        {%- else -%}
            {%- do conditions.append("_load_id >= '" ~ from_load ~ "'") -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
