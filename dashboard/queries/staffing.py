"""The Staffing page's query."""

from __future__ import annotations

from datetime import date

from dashboard import warehouse


@warehouse.query
def staffing(service: str | None, area: str | None, start: date, end: date):
    """FTE per month, service and role; shared posts kept apart. Staffing returns name
    organisations, not places: an organisation is in a county when it serves one of the county's
    districts (the boundary lookup), as in fct_cost_per_incident."""
    return (
        """
        select s.month, s.service, s.role, s.is_shared_post, sum(s.fte) as fte,
               sum(s.headcount) as headcount,
               string_agg(distinct s.organisation, '; ') as organisations
        from marts.fct_staffing_monthly as s
        where (?::varchar is null or s.service = ?)
          and (?::varchar is null or s.organisation in (
                select unnest([police_force_name, fire_authority_name, ambulance_trust_name])
                from marts.dim_areas
                where county = ?))
          and s.month between ? and ?
        group by all
        order by s.month, s.service, s.role
    """,
        [service, service, area, area, start, end],
    )
