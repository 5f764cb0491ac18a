with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('fire_stations', 'published') }}
),

typed as (
    select
        frs_name,
        frs_code,
        station_name,
        address,
        postcode,
        raw.parse_number(easting) as easting,
        raw.parse_number(northing) as northing,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['frs_code', 'station_name']) }}
)

select * from typed
