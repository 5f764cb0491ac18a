{#- Keep one row per key: the one from the most recently loaded file (a corrected file wins).
    A where clause, after `from <relation>`. Only keys sent more than once are sorted: a window
    over every row carried every column through the sort (23 of 25 s for 14.5 million
    incidents). An older version is named by its load, row and key: one line of a published
    table can give several rows (a row per measure or per sheet). Key columns are required, so
    never null here (quarantine holds those rows back). The relation is read three times, so a
    CTE passed here is declared `not materialized`: DuckDB otherwise copies every row of a CTE
    read more than once (145 million incidents spilled past the 28 GB of free disk). -#}
{% macro latest_version(relation, key_columns) -%}
    {%- set keys = key_columns | join(', ') -%}
    where (_load_id, _source_row, {{ keys }}) not in (
        select versions._load_id, versions._source_row, versions.{{ key_columns | join(', versions.') }}
        from {{ relation }} as versions
        semi join (
            select {{ keys }} from {{ relation }} group by all having count(*) > 1
        ) as repeated using ({{ keys }})
        qualify row_number() over (
            partition by versions.{{ key_columns | join(', versions.') }}
            order by versions._loaded_at desc, versions._source_row desc
        ) > 1
    )
{%- endmacro %}
