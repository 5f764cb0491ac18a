with

source as (
    select * from {{ source('agency', 'staffing') }}
),

typed as (
    select
        cast(month as date) as month,
        organisation,
        service,
        role,
        cast(fte as double) as fte,
        cast(headcount as integer) as headcount,
        cast(shared_post as boolean) as is_shared_post,
        _load_id,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['organisation', 'month', 'role']) }}
)

select * from typed
