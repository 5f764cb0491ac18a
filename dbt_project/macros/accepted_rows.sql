{#- A source's raw rows less those quarantined (audit.quarantine): what staging builds on. A
    quarantine row names the file's row it holds back by its record; one recorded without
    (before records were kept) holds back its whole line. flows/ingest.py's ACCEPTED says the
    same for the load and the gate. -#}
{% macro accepted_rows(table_name, source_name='agency') -%}
    select src.*
    from {{ source(source_name, table_name) }} as src
    anti join {{ source('audit', 'quarantine') }} as q
        on
            q.load_id = src._load_id
            and q.source_row = src._source_row
            and (q.source_record is null or q.source_record = src._source_record)
{%- endmacro %}
