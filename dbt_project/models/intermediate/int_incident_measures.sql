-- One value per incident for each incident-based measure a benefit can point at: the one
-- definition both the yearly measures and the difference in differences use.
--
-- A view over the parsed incidents: as a table it was rewritten in full every night (37 of the
-- 85 s of one more night's dbt at national scale), and it cannot be incremental by incident
-- (a correction that changes an incident's category must take it out of a measure). Its
-- readers read int_incident_measures_daily, which is incremental by day. A night tests only its
-- own loads, as for the view it reads (macros/get_where_subquery.sql).
{{ config(materialized='view', persist_docs=view_persist_docs(), meta={'tested_by_load': true}) }}

with

-- Read by both branches below: DuckDB would otherwise copy every incident into a temporary
-- result each time the view is read (at national scale 9 s, against 0.5 s, for a night's days).
incidents as not materialized (
    select * from {{ ref('int_incidents__with_area') }}
),

final as (
    select
        'fire_call_handling_mean_seconds' as measure,
        incident_id,
        district_code,
        county,
        rural_urban,
        call_at,
        financial_year,
        cast(call_handling_seconds as double) as measure_value,
        _load_id,
        _loaded_at
    from incidents
    where service = 'fire'

    union all

    select
        'cardiac_arrest_response_mean_minutes' as measure,
        incident_id,
        district_code,
        county,
        rural_urban,
        call_at,
        financial_year,
        response_seconds / 60.0 as measure_value,
        _load_id,
        _loaded_at
    from incidents
    where incident_category = 'cardiac_arrest'
)

select * from final
