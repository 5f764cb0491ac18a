-- Home Office police workforce: full-time equivalents per force, worker type and as-at date.
with

workforce as (
    select * from {{ ref('stg_published__police_workforce_tables') }}
),

final as (
    select
        force_name,
        worker_type,
        as_at_date,
        fte,
        table_name,
        _source_file as source_file,
        _source_row as source_row
    from workforce
)

select * from final
