with

source as (
    select * from {{ source('agency', 'incidents') }}
),

typed as (
    select
        incident_id,
        service,
        incident_category,
        district_code,
        cast(call_time as timestamp) as call_at,
        cast(mobilised_time as timestamp) as mobilised_at,
        cast(mobile_time as timestamp) as mobile_at,
        cast(first_arrival_time as timestamp) as first_arrival_at,
        _load_id,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['service', 'incident_id']) }}
),

final as (
    select
        *,
        cast(date_trunc('month', call_at) as date) as call_month,
        date_diff('second', call_at, first_arrival_at) as response_seconds,
        date_diff('second', call_at, mobilised_at) as call_handling_seconds,
        date_diff('second', mobilised_at, mobile_at) as turnout_seconds,
        date_diff('second', mobile_at, first_arrival_at) as drive_seconds
    from typed
)

select * from final
