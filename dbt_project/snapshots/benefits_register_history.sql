{#- Every version of every benefit in the register: a moved baseline, target or owner stays on
    record, valid from the time the file that changed it was loaded. -#}
{% snapshot benefits_register_history %}
    {{ config(
        target_schema='snapshots',
        unique_key='benefit_id',
        strategy='timestamp',
        updated_at='_loaded_at',
    ) }}

    select
        benefit_id,
        bid_id,
        description,
        owner,
        measure,
        baseline_value,
        baseline_period,
        target_value,
        target_date,
        attribution_share,
        confidence,
        _loaded_at,
        _source_file,
        _source_row
    from {{ ref('stg_agency__benefits_register') }}
{% endsnapshot %}
