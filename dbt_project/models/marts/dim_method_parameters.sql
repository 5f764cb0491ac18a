-- The method's parameters this build used, one row each, from the vars in dbt_project.yml: the
-- dashboard's help text reads them here, so every page and every kept version states the
-- thresholds and rates its own figures were computed with.
{%- set parameters = [
    ('rag_green_threshold', 'share', 'Share of the profiled improvement realised at or above which a benefit is green (on track).'),
    ('rag_amber_threshold', 'share', 'Share of the profiled improvement realised at or above which a benefit is amber (slipping); below it, red (off track).'),
    ('attribution_window_years', 'years', 'Years before and after go-live compared in the difference in differences.'),
    ('discount_rate', 'share a year', 'HM Treasury Green Book discount rate applied to real cash flows.'),
] %}

with

final as (
    select
        in_force.parameter_name as parameter,
        cast(in_force.value as double) as value,
        in_force.unit,
        in_force.description
    from (
        values
        {%- for name, unit, description in parameters %}
            ('{{ name }}', {{ var(name) }}, '{{ unit }}', '{{ description }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as in_force (parameter_name, value, unit, description)
)

select * from final
