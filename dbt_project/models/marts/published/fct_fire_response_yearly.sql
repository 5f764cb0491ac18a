-- Home Office FIRE1001: mean response times to fires per authority, financial year and fire type.
with

response as (
    select * from {{ ref('stg_published__fire1001') }}
),

final as (
    select
        financial_year,
        frs_code,
        frs_name,
        fire_type,
        incidents,
        total_response_minutes,
        call_handling_minutes,
        crew_turnout_minutes,
        drive_minutes,
        _source_file as source_file,
        _source_row as source_row
    from response
)

select * from final
