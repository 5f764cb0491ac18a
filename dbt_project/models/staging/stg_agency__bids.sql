with

source as not materialized (  -- see macros/latest_version.sql
    {{ accepted_rows('bids') }}
),

typed as (
    select
        bid_id,
        title,
        fund_round,
        lead_organisation,
        partners,
        county,
        raw.parse_number(award_gbp) as award_gbp,
        raw.parse_number(partner_contribution_gbp) as partner_contribution_gbp,
        raw.parse_date(go_live_date) as go_live_date,
        project_type,
        raw.parse_number(optimism_bias) as optimism_bias,
        raw.parse_integer(appraisal_years) as appraisal_years,
        {{ lineage_columns() }}
    from source
    {{ latest_version('source', ['bid_id']) }}
)

select * from typed
