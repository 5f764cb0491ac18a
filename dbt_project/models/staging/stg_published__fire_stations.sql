with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('published', 'fire_stations') }}
),

latest as (
    select
        frs_name,
        frs_code,
        station_name,
        address,
        postcode,
        easting,
        northing,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['frs_code', 'station_name']) }}
)

select * from latest
