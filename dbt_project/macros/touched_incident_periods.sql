{#- The days or months (`grain`) that an incident loaded since the model's last build falls in,
    or fell in before a newer version moved it (the accepted table keeps every version): what a
    model incremental by period recomputes. The model's `last_load_id` is its bookmark. A version
    quarantine held back never reaches staging, so it touches nothing. -#}
{% macro touched_incident_periods_query(grain) -%}
    select distinct cast(date_trunc('{{ grain }}', versions.call_time) as date)
    from {{ source('agency', 'incidents') }} as versions
    semi join {{ source('agency', 'incidents') }} as arrived
        on
            versions.service = arrived.service
            and versions.incident_id = arrived.incident_id
            and {{ loaded_since_bookmark('last_load_id', 'arrived') }}
{%- endmacro %}

{#- Those periods as a condition on `column` (a date or timestamp), written in as constants found
    when the model runs. With the query inside the condition, DuckDB read every incident to
    match against it; a span of constants lets it skip the row groups outside the span
    (docs/performance.md). `false` while dbt only parses, and when nothing was touched. -#}
{% macro touched_incident_periods(column, grain) -%}
    {%- set periods = run_query(touched_incident_periods_query(grain)).columns[0].values()
        | reject('none') | map('string') | list if execute else [] -%}
    {%- if periods -%}
        ({{ column }} >= date '{{ periods | min }}'
        and {{ column }} < date '{{ periods | max }}' + interval 1 {{ grain }}
        and cast(date_trunc('{{ grain }}', {{ column }}) as date) in (date '{{ periods | join("', date '") }}'))
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook of a model incremental by period: delete those periods before the new rows go
    in (one a correction left empty has no new rows to replace it). -#}
{% macro delete_touched_incident_periods(period_column, grain) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ touched_incident_periods(period_column, grain) }}
    {%- endif -%}
{%- endmacro %}
