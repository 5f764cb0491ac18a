with

source as (
    {{ accepted_rows('ons_lad_fra', 'published') }}
),

typed as (
    select
        district_code,
        district_name,
        fra_code,
        fra_name,
        vintage,
        _load_id,
        _loaded_at,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['vintage', 'district_code']) }}
)

select * from typed
