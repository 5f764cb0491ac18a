with

source as (
    select * from {{ source('agency', 'estates') }}
),

typed as (
    select
        site_id,
        financial_year,
        site_name,
        organisation,
        service,
        district_code,
        tenure,
        cast(floor_area_m2 as double) as floor_area_m2,
        cast(running_cost_gbp as double) as running_cost_gbp,
        co_located_services,
        cast(co_located_since as date) as co_located_since,
        cast(disposal_date as date) as disposal_date,
        coalesce(cast(capital_receipt_gbp as double), 0) as capital_receipt_gbp,
        cast(easting as integer) as easting,
        cast(northing as integer) as northing,
        _load_id,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['site_id', 'financial_year']) }}
)

select * from typed
