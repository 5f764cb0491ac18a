"""The Response times page's queries: incident categories, the monthly trend, the latest month's
headline, the response standards and the go-live dates marked on the trend."""

from __future__ import annotations

from datetime import date

from dashboard import warehouse


@warehouse.query
def incident_categories(service: str):
    """The service's categories that have response times: not ambulance 'all', whose categories
    run different clocks (the mart leaves its times null)."""
    return (
        """
        select distinct incident_category
        from marts.fct_response_times_monthly
        where service = ? and mean_response_minutes is not null
        order by incident_category = 'all' desc, incident_category
    """,
        [service],
    )


@warehouse.query
def clock_rule(service: str, incident_category: str):
    """When the category's clock starts and stops, and its standard (seed response_standards)."""
    return (
        """
        select clock_rule, standard_minutes, standard_source
        from reference.response_standards
        where service = ? and incident_category = ?
    """,
        [service, incident_category],
    )


@warehouse.query
def response_trend(
    service: str | None, incident_category: str, area: str | None, start: date, end: date
):
    """Monthly response per service and county (every service if `service` is None), with the
    month's financial year: median, 90th percentile, share within the standard and, for fire, the
    three parts of the response."""
    return (
        """
        select service, month, months.financial_year, county, incidents, mean_response_minutes,
               median_response_minutes, p90_response_minutes, share_within_standard,
               mean_call_handling_seconds / 60 as call_handling_minutes,
               mean_turnout_seconds / 60 as turnout_minutes,
               mean_drive_seconds / 60 as drive_minutes
        from marts.fct_response_times_monthly
        inner join marts.dim_months as months using (month)
        where area_type = 'county' and (?::varchar is null or service = ?)
          and incident_category = ? and (?::varchar is null or county = ?)
          and month between ? and ?
        order by service, month, county
    """,
        [service, service, incident_category, area, area, start, end],
    )


@warehouse.query
def response_latest_month(service: str | None, incident_category: str, area: str | None, end: date):
    """Each service's and county's latest month of data up to the end of the period: incidents,
    median, 90th percentile and share within the standard, as the trend draws them."""
    return (
        """
        select service, county, month, incidents, median_response_minutes,
               p90_response_minutes, share_within_standard
        from marts.fct_response_times_monthly
        where area_type = 'county' and (?::varchar is null or service = ?)
          and incident_category = ? and (?::varchar is null or county = ?) and month <= ?
        qualify month = max(month) over (partition by service, county)
        order by service, county
    """,
        [service, service, incident_category, area, area, end],
    )


@warehouse.query
def standards(service: str):
    """The service's response standard per incident category (seed response_standards)."""
    return (
        """
        select incident_category, standard_minutes, standard_source
        from reference.response_standards
        where service = ?
        order by standard_minutes, incident_category
    """,
        [service],
    )


@warehouse.query
def go_lives(area: str | None):
    """Go-live dates of the bids, with the service each has a benefit for (marked on its trend)."""
    return (
        """
        select distinct f.beneficiary as service, b.bid_id, b.title, b.county, b.go_live_date
        from marts.dim_bids as b
        inner join marts.dim_benefits as f using (bid_id)
        where ?::varchar is null or b.county = ?
        order by b.go_live_date, b.bid_id
    """,
        [area, area],
    )
