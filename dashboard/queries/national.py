"""The National picture's queries: the published national statistics (marts/published/), every
force, trust and fire and rescue service, beside the England and Wales median the marts work
out."""

from __future__ import annotations

from dashboard import warehouse


@warehouse.query
def police_worker_types():
    """Worker types in the police workforce tables, in the order the release tables them."""
    return """
        select worker_type
        from marts.fct_police_workforce
        group by worker_type
        order by min(table_name), worker_type
    """


@warehouse.query
def police_workforce(worker_type: str):
    """Every force's figure for a worker type at each as-at date, the England and Wales median
    for that type and date, and the release (the file as sent) the figure came from."""
    return (
        """
        with releases as (
            select archive_path, any_value(original_name) as original_name
            from audit.loaded_files
            where status = 'loaded'
            group by archive_path
        )
        select w.force_name, w.as_at_date, w.fte, w.median_fte_england_wales, w.table_name,
               coalesce(r.original_name, w.source_file) as release
        from marts.fct_police_workforce as w
        left join releases as r on r.archive_path = w.source_file
        where w.worker_type = ?
        order by w.force_name, w.as_at_date
    """,
        [worker_type],
    )


@warehouse.query
def ambulance_trusts():
    return """
        select trust_code, any_value(trust_name order by month desc) as trust_name
        from marts.fct_ambulance_response_monthly
        group by trust_code
        order by trust_name
    """


@warehouse.query
def ambulance_standard(category: str):
    """A category's 90th centile standard, and mean standard where it has one, in minutes (seed
    response_standards)."""
    return (
        """
        select standard_minutes, mean_standard_minutes, standard_source
        from reference.response_standards
        where service = 'ambulance' and incident_category = ?
    """,
        [category],
    )


@warehouse.query
def ambulance_response(category: str):
    """Every trust's incidents, mean and 90th centile response per month in a category (C1 to
    C4), beside the England median of the trusts' figures that month."""
    return (
        """
        select trust_code, trust_name, month, incidents, mean_response_minutes,
               p90_response_minutes, england_median_mean_minutes, england_median_p90_minutes
        from marts.fct_ambulance_response_monthly
        where category = ?
        order by trust_code, month
    """,
        [category],
    )


@warehouse.query
def fire_stations():
    """Every fire station in the Home Office list, with its grid reference where published."""
    return """
        select frs_code, frs_name, station_name, postcode, easting, northing
        from marts.dim_fire_stations
        order by frs_name, station_name
    """


@warehouse.query
def fire_station_counts():
    """Stations per fire and rescue service, and how many of them have a grid reference."""
    return """
        select frs_code, frs_name, count(*) as stations, count(easting) as with_grid_reference
        from marts.dim_fire_stations
        group by frs_code, frs_name
        order by stations desc, frs_name
    """


@warehouse.query
def area_coterminosity():
    """Each police force area and fire and rescue authority: its main partner of the other kind
    and the share of its districts that partner serves (fct_area_coterminosity)."""
    return """
        select area_type, area_code, area_name, partner_type, districts, matched_districts,
               partners, main_partner_code, main_partner_name, districts_in_main_partner,
               district_share, is_coterminous, pfa_vintage, fra_vintage
        from marts.fct_area_coterminosity
        order by area_type desc, area_name
    """
