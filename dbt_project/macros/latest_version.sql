{#- Keep one row per key: the one from the most recently loaded file (a corrected file wins). -#}
{% macro latest_version(key_columns) -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _loaded_at desc, _source_row desc
    ) = 1
{%- endmacro %}
