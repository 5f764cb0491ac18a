{#- The days or months (`grain`) that an incident loaded since the model's last build falls in,
    or fell in before a newer version moved it (raw keeps every version): what a model
    incremental by period recomputes. The model's `last_load_id` is its bookmark. Its pre-hook
    deletes these periods first: one a correction left empty has no new rows to replace it. -#}
{% macro touched_incident_periods(grain) -%}
    select distinct cast(date_trunc('{{ grain }}', raw.parse_timestamp(versions.call_time)) as date)
    from {{ source('agency', 'incidents') }} as versions
    semi join {{ source('agency', 'incidents') }} as arrived
        on
            versions.service = arrived.service
            and versions.incident_id = arrived.incident_id
            and arrived._load_id > (
                select coalesce(max(built.last_load_id), '') from {{ this }} as built
            )
{%- endmacro %}

{#- The pre-hook of a model incremental by period: delete those periods before the new rows go in. -#}
{% macro delete_touched_incident_periods(period_column, grain) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ period_column }} in ({{ touched_incident_periods(grain) }})
    {%- endif -%}
{%- endmacro %}
