{#- Models name the tables they read without the catalog: "staging"."stg_x", not
    "bluelight"."staging"."stg_x". A view keeps the names it was written with, and an auditor
    opens a kept version (versions/bluelight-<run id>.duckdb) or attaches it under another name,
    where a catalog named "bluelight" is not there: the view would not read. DuckDB resolves a
    view's names in its own file. -#}
{% macro ref() -%}
    {%- do return(builtins.ref(*varargs, **kwargs).include(database=false)) -%}
{%- endmacro %}

{% macro source(source_name, table_name) -%}
    {%- do return(builtins.source(source_name, table_name).include(database=false)) -%}
{%- endmacro %}
