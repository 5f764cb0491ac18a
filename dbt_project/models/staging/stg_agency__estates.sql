with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('estates') }}
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
        raw.parse_number(floor_area_m2) as floor_area_m2,
        raw.parse_number(running_cost_gbp) as running_cost_gbp,
        co_located_services,
        raw.parse_date(co_located_since) as co_located_since,
        raw.parse_date(disposal_date) as disposal_date,
        coalesce(raw.parse_number(capital_receipt_gbp), 0) as capital_receipt_gbp,
        raw.parse_integer(easting) as easting,
        raw.parse_integer(northing) as northing,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['site_id', 'financial_year']) }}
)

select * from typed
