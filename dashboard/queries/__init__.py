"""The dashboard's queries, one module per page (dashboard/queries/<page>.py, named as the page in
dashboard/views/), and here those every page shares: the filters' choices, the bids an area is
the comparison area for, which marts have rows and what they wait for, which columns a mart has,
and which version is shown. Each is a function decorated with
`@warehouse.query` (dashboard/warehouse.py): it returns its SQL and parameters, and calling it
returns the rows, cached per published version. Filters arrive as parameters: `area` is a county
name or None for every county, `service` a service or None for every service, `start` and `end`
the first and last day of the chosen period, `first` and `last` its financial years.
"""

from __future__ import annotations

import pandas as pd

from dashboard import warehouse

# ---------------------------------------------------------------- filters' choices


@warehouse.query
def bids(area: str | None = None):
    return (
        """
        select bid_id, title, fund_round, lead_organisation, partners, county, award_gbp,
               partner_contribution_gbp, total_cost_gbp, go_live_date, benefits
        from marts.dim_bids
        where ?::varchar is null or county = ?
        order by go_live_date, bid_id
    """,
        [area, area],
    )


@warehouse.query
def services():
    """Every service with response times, sites or staff."""
    return """
        select service from marts.fct_response_times_monthly
        union
        select service from marts.fct_estate_sites_yearly
        union
        select service from marts.fct_staffing_monthly
        order by service
    """


@warehouse.query
def areas():
    return "select distinct county from marts.dim_areas order by 1"


@warehouse.query
def financial_years():
    """Every financial year with data in a mart the pages chart, oldest first."""
    return """
        with months as (
            select month from marts.fct_response_times_monthly
            union
            select month from marts.fct_staffing_monthly
        )
        select financial_year from marts.dim_months where month in (select month from months)
        union
        select financial_year from marts.fct_estate_sites_yearly
        union
        select financial_year from marts.fct_benefit_realisation
        order by financial_year
    """


@warehouse.query
def method_parameters():
    """The thresholds and rates the version's figures were computed with (dbt's vars), by name."""
    return "select parameter, value, unit, description from marts.dim_method_parameters"


def parameter(name: str) -> float:
    """One method parameter's value, e.g. parameter('discount_rate') -> 0.035."""
    rows = method_parameters()
    return float(rows.loc[rows.parameter == name, "value"].iloc[0])


# ---------------------------------------------------------------- comparison areas


def compared_against(county: str) -> pd.DataFrame:
    """The bids and benefits whose counterfactual uses `county` as a comparison area (no rows in
    a warehouse that does not record the comparison units)."""
    if tables_present("intermediate", ("int_benefit_units",)).empty:
        return pd.DataFrame(columns=["bid_id", "title", "benefit_id", "description"])
    return comparison_rows(county)


@warehouse.query
def comparison_rows(county: str):
    # The units each counterfactual compares are the intermediate model int_benefit_units (no
    # mart carries the comparison counties yet).
    return (
        """
        select distinct bids.bid_id, bids.title, benefits.benefit_id, benefits.description
        from intermediate.int_benefit_units as units
        inner join marts.dim_benefits as benefits using (benefit_id)
        inner join marts.dim_bids as bids on benefits.bid_id = bids.bid_id
        where units.arm = 'comparison' and units.county = ?
        order by bids.bid_id, benefits.benefit_id
    """,
        [county],
    )


# ---------------------------------------------------------------- what the marts hold and wait for


def mart_readiness() -> pd.DataFrame:
    """Each mart as the last run left it (audit.mart_readiness): the sources it is built from,
    those never loaded, its rows and its status (ready, partial, waiting). No rows in a warehouse
    built before runs recorded it."""
    if tables_present("audit", ("mart_readiness",)).empty:
        columns = ["mart", "sources", "waiting_for", "rows", "status", "checked_at", "run_id"]
        return pd.DataFrame(columns=columns)
    return readiness_recorded()


@warehouse.query
def readiness_recorded():
    return """
        select mart, sources, waiting_for, rows, status, checked_at, run_id
        from audit.mart_readiness
        order by case status when 'waiting' then 0 when 'partial' then 1 else 2 end, mart
    """


def mart_rows(marts: tuple[str, ...]) -> dict[str, int]:
    """Rows in each of these marts; 0 for a mart the warehouse does not hold."""
    present = tuple(m for m in marts if m in set(tables_present("marts", marts).table_name))
    counts = dict(row_counts(present).itertuples(index=False, name=None)) if present else {}
    return {m: int(counts.get(m, 0)) for m in marts}


@warehouse.query
def mart_columns(table: str):
    """No rows of the mart `table`, so its columns: the name comes from the pages' code, never
    from input (reading the catalogue takes twice as long)."""
    return f'select * from marts."{table}" limit 0'


def has_column(table: str, column: str) -> bool:
    """Whether the mart has the column: a page reads a column a newer version of the marts adds
    only where the version shown has it (kept versions are read as they were published)."""
    return column in mart_columns(table).columns


@warehouse.query
def tables_present(schema: str, tables: tuple[str, ...]):
    """Which of these tables the warehouse holds in `schema`."""
    return (
        """
        select table_name from information_schema.tables
        where table_catalog = current_database() and table_schema = ?
            and list_contains(?, table_name)
    """,
        [schema, list(tables)],
    )


@warehouse.query
def row_counts(marts: tuple[str, ...]):
    """Rows in each of these marts, which the warehouse must hold. The names come from the
    pages' code and are checked against the catalogue (mart_rows) before they reach the SQL."""
    return " union all ".join(
        f"select '{m}' as mart, count(*) as n from marts.\"{m}\"" for m in marts
    )


# ---------------------------------------------------------------- which version is shown


def published_version() -> pd.DataFrame:
    """Which version the dashboard shows: the run that published it, when, and the kept file (on
    the lake, the snapshot) an auditor can open to see the same figures (`bluelight versions`),
    from one read-only opening."""
    frame = warehouse.publishing_run().rename(columns={"finished_at": "published_at"})
    if frame.empty:
        none = pd.Series(dtype=object)
        return frame.assign(version_file=none, snapshot_id=none, kept_versions=0)
    return frame.assign(**warehouse.kept(frame.run_id[0]))
