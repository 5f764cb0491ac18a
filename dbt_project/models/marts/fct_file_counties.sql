-- One row per agency file whose rows are in force and county those rows concern: a file's rows
-- concern the county of their district, of their organisation (every county it serves) or of
-- their bid. A reader granted some counties sees these files in the lineage of their figures
-- (the dashboard's scope) and never another area's rows. Published statistics concern every
-- county and every reader sees them, so they are not listed here. Built from every agency
-- source, it waits for each source never sent as the marts of figures do, which warn of it.
{{ config(meta={'warn_when_waiting': false}) }}

with

areas as (
    select
        district_code,
        county
    from {{ ref('dim_areas') }}
),

organisations as (
    select
        organisation_name,
        county
    from {{ ref('dim_organisations') }}
),

bids as (
    select
        bid_id,
        county
    from {{ ref('dim_bids') }}
),

boundaries as (
    select
        _source_sha256,
        county
    from {{ ref('stg_agency__boundaries') }}
),

incidents as (
    select
        _source_sha256,
        district_code
    from {{ ref('stg_agency__incidents') }}
),

estates as (
    select
        _source_sha256,
        district_code,
        organisation
    from {{ ref('stg_agency__estates') }}
),

staffing as (
    select
        _source_sha256,
        organisation
    from {{ ref('stg_agency__staffing') }}
),

finance as (
    select
        _source_sha256,
        organisation
    from {{ ref('stg_agency__finance') }}
),

bid_rows as (
    select
        _source_sha256,
        county
    from {{ ref('stg_agency__bids') }}
),

benefits as (
    select
        _source_sha256,
        bid_id,
        measure_county
    from {{ ref('stg_agency__benefits_register') }}
),

costs as (
    select
        _source_sha256,
        bid_id
    from {{ ref('stg_agency__bid_costs') }}
),

by_district as (
    select
        'incidents' as source_name,
        incidents._source_sha256,
        areas.county
    from incidents inner join areas on incidents.district_code = areas.district_code
    union all
    select
        'estates' as source_name,
        estates._source_sha256,
        areas.county
    from estates inner join areas on estates.district_code = areas.district_code
),

by_organisation as (
    select
        'estates' as source_name,
        estates._source_sha256,
        organisations.county
    from estates inner join organisations
        on estates.organisation = organisations.organisation_name
    union all
    select
        'staffing' as source_name,
        staffing._source_sha256,
        organisations.county
    from staffing inner join organisations
        on staffing.organisation = organisations.organisation_name
    union all
    select
        'finance' as source_name,
        finance._source_sha256,
        organisations.county
    from finance inner join organisations
        on finance.organisation = organisations.organisation_name
),

by_bid as (
    select
        'benefits_register' as source_name,
        benefits._source_sha256,
        bids.county
    from benefits inner join bids on benefits.bid_id = bids.bid_id
    union all
    select
        'benefits_register' as source_name,
        _source_sha256,
        measure_county as county
    from benefits
    union all
    select
        'bid_costs' as source_name,
        costs._source_sha256,
        bids.county
    from costs inner join bids on costs.bid_id = bids.bid_id
),

named as (
    select
        'boundaries' as source_name,
        _source_sha256,
        county
    from boundaries
    union all
    select
        'bids' as source_name,
        _source_sha256,
        county
    from bid_rows
),

final as (
    select distinct
        source_name,
        _source_sha256 as sha256,
        county
    from (
        select * from by_district
        union all
        select * from by_organisation
        union all
        select * from by_bid
        union all
        select * from named
    ) as concerned
    where county is not null
)

select * from final
