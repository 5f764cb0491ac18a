"""A dashboard on another machine, for tests/test_lake_readers.py: a process of its own whose
environment holds only the lake's catalog address and data path (`BLUELIGHT_BACKEND=ducklake`,
`BLUELIGHT_LAKE_CATALOG`, `BLUELIGHT_LAKE_DATA_PATH`), no data directory. Until the file STOP
exists it looks up the newest published version, attaches the lake pinned to it and runs the
dashboard's own queries there (the SQL of the `@warehouse.query` functions in
dashboard/queries/), one cycle at a time; each cycle is one JSON line appended to OUT.

    python tests/lake_dashboard_reader.py OUT STOP

`read_version` is also what the test runs on each published version, in its own process, to
know what a whole version answers.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from datetime import date
from pathlib import Path

PAUSE = 0.1  # seconds between cycles: a busy dashboard, not a loop that starves the night
YEARS = (date(2010, 4, 1), date(2030, 3, 31))


def dashboard_queries() -> dict[str, tuple]:
    """The dashboard's queries the test reads, by name: (the undecorated function, its
    arguments). They cover the marts and audit tables a night changes: bids and benefits
    (realisation, value, attribution), the Overview, response times, estates and data health."""
    from dashboard import queries, warehouse
    from dashboard.queries import bid, data_health, estates, overview, response_times

    start, end = YEARS
    marts = ("dim_bids", "fct_benefit_realisation", "fct_response_times_monthly")
    chosen = {
        "publishing_run": (warehouse.publishing_run, ()),
        "bids": (queries.bids, (None,)),
        "services": (queries.services, ()),
        "areas": (queries.areas, ()),
        "financial_years": (queries.financial_years, ()),
        "method_parameters": (queries.method_parameters, ()),
        "readiness": (queries.readiness_recorded, ()),
        "tables_present": (queries.tables_present, ("marts", marts)),
        "row_counts": (queries.row_counts, (marts,)),
        "comparison_rows": (queries.comparison_rows, ("Testshire",)),
        "bid_overview": (overview.bid_overview_rows, (None, True)),
        "shared_savings": (overview.shared_savings, (None,)),
        "bid_npv": (overview.bid_npv, ()),
        "benefit_statuses": (overview.benefit_statuses, ()),
        "estate_sites": (estates.estate_sites, (None, None, "2017-18")),
        "estate_costs": (estates.estate_costs, (None, None, "2015-16", "2018-19")),
        "disposals": (estates.disposals, (None, None, "2015-16", "2018-19")),
        "incident_categories": (response_times.incident_categories, ("fire",)),
        "response_trend": (response_times.response_trend, ("fire", "all", None, start, end)),
        "response_latest": (response_times.response_latest_month, ("fire", "all", None, end)),
        "standards": (response_times.standards, ("fire",)),
        "go_lives": (response_times.go_lives, (None,)),
        "source_freshness": (data_health.source_freshness, ()),
        "last_loads": (data_health.last_loads, ()),
        "load_runs": (data_health.load_runs, ()),
        "quarantine": (data_health.quarantine, ()),
        "rejected_files": (data_health.rejected_files, ()),
    }
    for bid_id in ("B1", "B2"):
        chosen |= {
            f"bid_value {bid_id}": (bid.bid_value, (bid_id,)),
            f"bid_sensitivity {bid_id}": (bid.bid_sensitivity, (bid_id,)),
            f"benefit_profile {bid_id}": (bid.benefit_profile_rows, (bid_id, start, end, True)),
            f"benefit_latest {bid_id}": (bid.benefit_latest_rows, (bid_id, True)),
            f"year_to_date {bid_id}": (bid.year_to_date_rows, (bid_id, True)),
            f"benefit_sharing {bid_id}": (bid.benefit_sharing, (bid_id,)),
            f"benefit_attribution {bid_id}": (bid.benefit_attribution, (bid_id,)),
            f"comparison_areas {bid_id}": (bid.comparison_area_rows, (bid_id,)),
        }
    # The SQL without Streamlit's cache: functools.wraps keeps the function as __wrapped__.
    return {name: (function.__wrapped__, args) for name, (function, args) in chosen.items()}


# Figures a reader compares at a glance; the digests of every query say the rest.
FIGURES_SQL = """
    select (select count(*) from raw.incidents) as raw_incidents,
           (select count(*) from audit.loaded_files) as loaded_files,
           (select sum(incidents) from marts.fct_response_times_monthly) as incidents,
           (select round(sum(target_value), 6) from marts.fct_benefit_realisation) as targets,
           (select round(sum(npv_gbp), 2) from marts.fct_bid_overview) as npv
"""


def _canonical(value):
    if isinstance(value, float):  # a parallel sum may differ in its last bit read to read
        return float(f"{value:.12g}")
    return value


def _digest(rows: list[tuple]) -> str:
    text = repr(sorted((tuple(_canonical(v) for v in row) for row in rows), key=repr))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_version(con) -> dict:
    """What the dashboard's queries answer on `con` (a connection whose default database is a
    published version): the run that published it, the key figures and each query's digest."""
    digests = {}
    for name, (function, args) in dashboard_queries().items():
        sql = function(*args)
        sql, params = sql if isinstance(sql, tuple) else (sql, [])
        digests[name] = _digest(con.execute(sql, params).fetchall())
    run = con.execute(function_sql("publishing_run")).fetchone()[0]
    figures = con.execute(FIGURES_SQL).fetchone()
    names = [d[0] for d in con.description]
    return {
        "run": run,
        "figures": dict(zip(names, map(_canonical, figures), strict=True)),
        "queries": digests,
    }


def function_sql(name: str) -> str:
    function, args = dashboard_queries()[name]
    return function(*args)


def _cycle(settings) -> dict:
    from flows.warehouse import backend, lake

    started, start = time.time(), time.perf_counter()
    version = backend.newest(settings)
    looked_up = time.perf_counter()
    with backend.read(settings, version.snapshot_id) as con:
        attached = time.perf_counter()
        reading = lake.current_snapshot(con)
        seen = read_version(con)
    return {
        "snapshot": version.snapshot_id,
        "version_run": version.run_id,
        "reading": reading,
        **seen,
        "lookup_seconds": looked_up - start,
        "attach_seconds": attached - looked_up,
        "query_seconds": time.perf_counter() - attached,
        "queries_run": len(seen["queries"]) + 2,
        "started": started,
        "ended": time.time(),
    }


def main(out: Path, stop: Path) -> None:
    from flows.settings import Settings

    settings = Settings.from_env()
    with out.open("a") as log:
        log.write(json.dumps({"home_exists": settings.home.exists()}) + "\n")
        log.flush()
        while not stop.exists():
            try:
                cycle = _cycle(settings)
            except Exception as error:  # every failure a reader sees is the finding
                cycle = {"error": f"{type(error).__name__}: {error}", "at": time.time()}
            log.write(json.dumps(cycle, default=str) + "\n")
            log.flush()
            time.sleep(PAUSE)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
