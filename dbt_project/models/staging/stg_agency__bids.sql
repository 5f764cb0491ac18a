with

source as not materialized (  -- see macros/latest_version.sql
    select * from {{ source('agency', 'bids') }}
),

latest as (
    select
        bid_id,
        title,
        fund_round,
        lead_organisation,
        partners,
        county,
        award_gbp,
        partner_contribution_gbp,
        go_live_date,
        project_type,
        optimism_bias,
        appraisal_years,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['bid_id']) }}
)

select * from latest
