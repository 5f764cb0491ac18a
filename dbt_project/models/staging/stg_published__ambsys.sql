with

source as (
    {{ accepted_rows('ambsys', 'published') }}
),

typed as (
    select
        raw.parse_date(period) as period,
        region,
        org_code,
        org_name,
        measure_code,
        raw.parse_number(value) as value,
        _load_id,
        _loaded_at,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['period', 'org_code', 'measure_code']) }}
)

select * from typed
