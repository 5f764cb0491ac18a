with

source as (
    select * from {{ source('agency', 'bids') }}
),

typed as (
    select
        bid_id,
        title,
        fund_round,
        lead_organisation,
        partners,
        county,
        cast(award_gbp as double) as award_gbp,
        cast(partner_contribution_gbp as double) as partner_contribution_gbp,
        cast(go_live_date as date) as go_live_date,
        _load_id,
        _source_file,
        _source_sha256,
        _source_row
    from source
    {{ latest_version(['bid_id']) }}
)

select * from typed
