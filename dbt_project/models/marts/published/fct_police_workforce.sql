-- Home Office police workforce: full-time equivalents per force, worker type and as-at date,
-- beside the median across the 43 forces of England and Wales for the same table and date, so a
-- force is compared with the others without the dashboard working it out.
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
        median(fte) over (partition by table_name, worker_type, as_at_date) as median_fte_england_wales,
        table_name,
        _source_file as source_file,
        _source_row as source_row
    from workforce
)

select * from final
