-- Staff in post per organisation, role and month: full-time equivalents, headcount, shared posts.
with

staffing as (
    select * from {{ ref('stg_agency__staffing') }}
),

final as (
    select
        organisation,
        service,
        role,
        month,
        fte,
        headcount,
        is_shared_post,
        _source_file as source_file,
        _source_row as source_row
    from staffing
)

select * from final
