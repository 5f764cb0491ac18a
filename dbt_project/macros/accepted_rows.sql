{#- A source's raw rows less those quarantined (audit.quarantine): what staging builds on. A
    quarantine row names the file's row it holds back by its record; for a load from before
    records were kept both are null and the whole line is held back. `is not distinct from`
    keeps a hash join (flows/load/quarantine.py's ACCEPTED, which the load and the gate use, says why). -#}
{% macro accepted_rows(table_name, source_name='agency') -%}
    select src.*
    from {{ source(source_name, table_name) }} as src
    anti join {{ source('audit', 'quarantine') }} as q
        on
            q.load_id = src._load_id
            and q.source_row = src._source_row
            and q.source_record is not distinct from src._source_record
{%- endmacro %}
