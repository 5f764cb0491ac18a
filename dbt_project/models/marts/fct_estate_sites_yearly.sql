-- The estate per site and financial year: running cost, floor area, co-location and disposal.
with

estates as (
    select * from {{ ref('stg_agency__estates') }}
),

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

final as (
    select
        estates.site_id,
        estates.financial_year,
        estates.site_name,
        estates.organisation,
        estates.service,
        estates.district_code,
        districts.county,
        estates.tenure,
        estates.floor_area_m2,
        estates.running_cost_gbp,
        estates.co_located_services is not null as is_co_located,
        estates.co_located_services,
        estates.co_located_since,
        estates.disposal_date,
        estates.capital_receipt_gbp,
        estates.easting,
        estates.northing,
        estates._source_file as source_file,
        estates._source_row as source_row
    from estates
    inner join districts on estates.district_code = districts.district_code
)

select * from final
