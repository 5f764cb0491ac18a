with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('fire1001', 'published') }}
),

typed as (
    select
        replace(financial_year, '/', '-') as financial_year,
        frs_name,
        frs_code,
        fire_type,
        raw.parse_integer(incidents) as incidents,
        raw.parse_number(total_response_minutes) as total_response_minutes,
        raw.parse_number(call_handling_minutes) as call_handling_minutes,
        raw.parse_number(crew_turnout_minutes) as crew_turnout_minutes,
        raw.parse_number(drive_minutes) as drive_minutes,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['financial_year', 'frs_code', 'fire_type']) }}
)

select * from typed
