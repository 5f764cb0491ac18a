with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'estates') }}
),

latest as (
    select
        site_id,
        financial_year,
        site_name,
        organisation,
        service,
        district_code,
        tenure,
        floor_area_m2,
        running_cost_gbp,
        co_located_services,
        co_located_since,
        disposal_date,
        coalesce(capital_receipt_gbp, 0) as capital_receipt_gbp,
        easting,
        northing,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['site_id', 'financial_year']) }}
)

select * from latest
