{#- A source's raw rows less those quarantined (audit.quarantine): what staging builds on. -#}
{% macro accepted_rows(table_name, source_name='agency') -%}
    select src.*
    from {{ source(source_name, table_name) }} as src
    anti join {{ source('audit', 'quarantine') }} as q
        on q.load_id = src._load_id and q.source_row = src._source_row
{%- endmacro %}
