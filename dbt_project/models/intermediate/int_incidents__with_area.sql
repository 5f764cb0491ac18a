-- A view: the join is cheap, and as a table it wrote every parsed incident a second time
-- (docs/performance.md). Its readers filter by load or period, and DuckDB pushes those filters
-- through the join to the incremental staging table. Its older rows change only in a full build
-- (a boundaries file rebuilds in full), so a night tests only its own loads.
{{ config(materialized='view', persist_docs=view_persist_docs(), meta={'tested_by_load': true}) }}

with

incidents as (
    select * from {{ ref('stg_agency__incidents') }}
),

districts as (
    select * from {{ ref('stg_agency__boundaries') }}
),

joined as (
    select
        incidents.incident_id,
        incidents.service,
        incidents.incident_category,
        incidents.district_code,
        districts.county,
        districts.rural_urban,
        incidents.call_at,
        incidents.call_month,
        {{ financial_year('incidents.call_at') }} as financial_year,
        incidents.response_seconds,
        incidents.call_handling_seconds,
        incidents.turnout_seconds,
        incidents.drive_seconds,
        incidents._load_id,
        incidents._loaded_at,
        incidents._source_file,
        incidents._source_row
    from incidents
    inner join districts on incidents.district_code = districts.district_code
)

select * from joined
