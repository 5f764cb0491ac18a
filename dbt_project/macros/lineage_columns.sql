{#- The lineage every staging row keeps from its accepted row (raw's): its load, when, and the file and
    row it came from. -#}
{% macro lineage_columns() -%}
    _load_id,
    _loaded_at,
    _source_file,
    _source_sha256,
    _source_row
{%- endmacro %}
