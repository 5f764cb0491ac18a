-- NHS England AmbSYS: incidents, mean and 90th centile response per trust, month and category,
-- beside the median across the trusts for the same month and category (England's own row and the
-- regions' are left out: the median is of trusts), so a trust is compared with the others without
-- the dashboard working it out.
-- Indicator codes: A8/A10/A11/A12 incidents in C1..C4; A25/A26 C1 mean/90th centile seconds;
-- A31/A32 C2; A34/A35 C3; A37/A38 C4.
with

indicators as (
    select * from {{ ref('stg_published__ambsys') }}
),

codes as (
    select
        codes.category,
        codes.incidents_code,
        codes.mean_code,
        codes.p90_code
    from (
        values
        ('C1', 'A8', 'A25', 'A26'),
        ('C2', 'A10', 'A31', 'A32'),
        ('C3', 'A11', 'A34', 'A35'),
        ('C4', 'A12', 'A37', 'A38')
    ) as codes (category, incidents_code, mean_code, p90_code)
),

trusts as (
    select *
    from indicators
    where org_code like 'R%'
),

monthly as (
    select
        trusts.org_code as trust_code,
        trusts.org_name as trust_name,
        trusts.period as month,
        codes.category,
        max(case when trusts.measure_code = codes.incidents_code then trusts.value end) as incidents,
        max(case when trusts.measure_code = codes.mean_code then trusts.value end) / 60.0 as mean_response_minutes,
        max(case when trusts.measure_code = codes.p90_code then trusts.value end) / 60.0 as p90_response_minutes
    from trusts
    cross join codes
    group by trusts.org_code, trusts.org_name, trusts.period, codes.category
),

final as (
    select
        trust_code,
        trust_name,
        month,
        category,
        incidents,
        mean_response_minutes,
        p90_response_minutes,
        median(mean_response_minutes) over (partition by month, category) as england_median_mean_minutes,
        median(p90_response_minutes) over (partition by month, category) as england_median_p90_minutes
    from monthly
)

select * from final
