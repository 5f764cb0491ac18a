"""The Estates page's queries: sites in a year, running costs by year, disposals."""

from __future__ import annotations

from dashboard import warehouse


@warehouse.query
def estate_sites(service: str | None, area: str | None, year: str):
    """Sites in the return for the financial year (the period's last with data), with where they
    are and whether another service shares them."""
    return (
        """
        select site_id, site_name, organisation, service, county, tenure, floor_area_m2,
               running_cost_gbp, is_co_located, co_located_services, co_located_since,
               easting, northing
        from marts.fct_estate_sites_yearly
        where financial_year = (
                select max(financial_year) from marts.fct_estate_sites_yearly
                where financial_year <= ?)
          and (?::varchar is null or service = ?) and (?::varchar is null or county = ?)
        order by service, site_id
    """,
        [year, service, service, area, area],
    )


@warehouse.query
def estate_costs(service: str | None, area: str | None, first: str, last: str):
    """Running costs per financial year and service, pounds cash."""
    return (
        """
        select financial_year, service, count(*) as sites,
               sum(running_cost_gbp) as running_cost_gbp,
               count(*) filter (where is_co_located) as co_located_sites
        from marts.fct_estate_sites_yearly
        where financial_year between ? and ?
          and (?::varchar is null or service = ?) and (?::varchar is null or county = ?)
        group by financial_year, service
        order by financial_year, service
    """,
        [first, last, service, service, area, area],
    )


@warehouse.query
def disposals(service: str | None, area: str | None, first: str, last: str):
    return (
        """
        select financial_year, disposal_date, site_id, site_name, service, county,
               capital_receipt_gbp
        from marts.fct_estate_sites_yearly
        where disposal_date is not null and financial_year between ? and ?
          and (?::varchar is null or service = ?) and (?::varchar is null or county = ?)
        order by disposal_date, site_id
    """,
        [first, last, service, service, area, area],
    )
