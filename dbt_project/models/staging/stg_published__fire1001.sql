with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('published', 'fire1001') }}
),

latest as (
    select
        replace(financial_year, '/', '-') as financial_year,
        frs_name,
        frs_code,
        fire_type,
        incidents,
        total_response_minutes,
        call_handling_minutes,
        crew_turnout_minutes,
        drive_minutes,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['financial_year', 'frs_code', 'fire_type']) }}
)

select * from latest
