-- Home Office fire stations, with British National Grid coordinates where published.
with

stations as (
    select * from {{ ref('stg_published__fire_stations') }}
),

final as (
    select
        frs_code,
        frs_name,
        station_name,
        address,
        postcode,
        easting,
        northing,
        _source_file as source_file,
        _source_row as source_row
    from stations
)

select * from final
