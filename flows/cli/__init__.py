"""The `bluelight` command: one verb per job a user has, each in the module for its users
(running.py, sources.py, warehouse.py, security.py, reports.py, server.py, backups.py,
lake.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from flows.cli import backups, lake, reports, running, security, server, sources, warehouse
from flows.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bluelight",
        description="Tracks whether blue-light collaboration funded by Police Innovation Fund "
        "bids delivers its benefits. Data directory: $BLUELIGHT_HOME "
        "(default ~/.local/share/bluelight).",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    _add_run_verbs(verbs)
    _add_warehouse_verbs(verbs)
    _add_source_verbs(verbs)
    _add_security_verbs(verbs)
    _add_report_verbs(verbs)
    _add_server_verbs(verbs)
    backups.add_verbs(verbs)
    lake.add_verbs(verbs)
    return parser


def _add_run_verbs(verbs) -> None:
    """demo, run, serve, dashboard."""

    demo = verbs.add_parser(
        "demo", help="write the demo inbox, run the nightly flow on it, then serve the dashboard"
    )
    demo.add_argument("--seed", type=int, default=None, help="generator seed (default 2014)")
    demo.add_argument(
        "--scale",
        type=float,
        default=None,
        help="share of the demo county's incident volume (default 1.0)",
    )
    demo.add_argument("--no-dashboard", action="store_true", help="stop after publishing")
    run = verbs.add_parser(
        "run",
        help="run the nightly flow on whatever is in the inbox; or backfill, or rerun a failed run",
    )
    run.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        metavar="DIR",
        help="load an archived set of files: DIR laid out like the inbox (DIR/<source>/...), or "
        "dated folders of them (DIR/YYYY-MM-DD/<source>/...), one run per date, oldest first",
    )
    run.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the date the files count as arrived on (freshness is judged as of then)",
    )
    run.add_argument("--since", metavar="YYYY-MM-DD", help="with dated folders: the first date")
    run.add_argument("--until", metavar="YYYY-MM-DD", help="with dated folders: the last date")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every dbt model, the incremental ones from raw, and re-test every row (after "
        "changing a test; a new boundaries file or a change reaching an incremental model does it "
        "by itself)",
    )
    run.add_argument(
        "--rerun",
        metavar="RUN_ID",
        help="run a failed run again, as of its time, on the files it left in the inbox",
    )
    verbs.add_parser(
        "serve",
        help="register the nightly deployment on the Prefect server (PREFECT_API_URL) and run "
        "it on its schedule (BLUELIGHT_SCHEDULE_CRON, default 02:00 Europe/London)",
    )
    dashboard = verbs.add_parser(
        "dashboard", help="serve the Streamlit dashboard on the published warehouse"
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default 127.0.0.1); anything but loopback only with sign-in "
        "configured (docs/security.md)",
    )


def _add_warehouse_verbs(verbs) -> None:
    """versions, bench, check, upgrade."""
    versions = verbs.add_parser(
        "versions",
        help="list the kept versions of the published warehouse: run id, time, size, row counts",
    )
    versions.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="print only how to open the version in force at the end of that day (or at a time, "
        "YYYY-MM-DD HH:MM:SS): the kept file's path, or on the lake the ATTACH statement "
        "pinned to its snapshot",
    )
    bench_verb = verbs.add_parser(
        "bench",
        help="run a demo tier end to end and print each stage's time, rows per second, peak "
        "memory, start-up cost, warehouse size and the ratio to plain DuckDB; writes "
        "docs/performance.md",
    )
    bench_verb.add_argument(
        "--tier", default="county", choices=["county", "region", "national-year", "national"]
    )
    bench_verb.add_argument(
        "--backend",
        default="file",
        choices=["file", "ducklake"],
        help="ducklake: run the tier on the file and on a DuckLake and report each stage's ratio "
        "(lake / file); the catalog of BLUELIGHT_LAKE_CATALOG and BLUELIGHT_LAKE_DATA_PATH "
        "when set (an empty lake), else a PostgreSQL of its own",
    )
    bench_verb.add_argument(
        "--file-result",
        type=Path,
        metavar="JSON",
        help="with --backend ducklake: set the lake against this file bench's result (written "
        "beside the tier's data directory, bench/<tier>-file.json) instead of running the file",
    )
    bench_verb.add_argument("--keep", action="store_true", help="keep the tier's data directory")
    bench_verb.add_argument(
        "--no-doc", action="store_true", help="print only; do not write docs/performance.md"
    )
    check = verbs.add_parser(
        "check",
        help="run every quality suite on the published warehouse (or the build copy); "
        "writes Data Docs to quality/; exit status 1 on a critical failure",
    )
    check.add_argument("--build", action="store_true", help="check the build copy instead")
    upgrade = verbs.add_parser(
        "upgrade",
        help="show the published warehouse's schema version and the migrations this release "
        "would apply, then run a night that applies them (on its build copy, published when "
        "every gate passes)",
    )
    upgrade.add_argument(
        "--check",
        action="store_true",
        help="only show them: exit status 1 when migrations are pending or the warehouse is "
        "newer than this release",
    )


def _add_source_verbs(verbs) -> None:
    """sources, init, status, validate."""
    sources = verbs.add_parser("sources", help="list the source contracts and their inbox folders")
    sources.add_argument("name", nargs="?", help="one source: list its columns too")
    sources.add_argument(
        "--write",
        action="store_true",
        help="rewrite what follows from the contracts: dbt's source and staging YAML and the "
        "source expectation suites (expectations/sources/)",
    )
    sources.add_argument(
        "--template",
        action="store_true",
        help="write a template an agency can fill in: the columns in order and a worked example "
        "row (XLSX: a second sheet describes each column)",
    )
    sources.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="of the template")
    sources.add_argument(
        "--out", type=Path, help="where to write the template (default NAME.FORMAT)"
    )
    verbs.add_parser(
        "init", help="make an empty data directory with an inbox folder for every source"
    )
    verbs.add_parser(
        "status",
        help="what has loaded per source, the last refusal, what each mart is waiting for, and "
        "the published version in force",
    )
    validate = verbs.add_parser(
        "validate",
        help="judge a file against its contract without loading it: load, load with rows "
        "quarantined, or reject (exit status 1); writes nothing",
    )
    validate.add_argument("file", type=Path)
    validate.add_argument(
        "--source", help="the source the file is for (default: the folder it is in)"
    )


def _add_security_verbs(verbs) -> None:
    """access-log."""
    access_log = verbs.add_parser(
        "access-log",
        help="the access log: each sign-in, refusal, page view, export and upload (who, when, "
        "page, bid, rows, file sha256)",
    )
    access_log.add_argument(
        "--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="entries from that day (UTC)"
    )
    access_log.add_argument(
        "--verify",
        action="store_true",
        help="check the whole hash chain instead: exit status 1 naming the first broken line",
    )
    access_log.add_argument("--json", action="store_true", help="JSON lines instead of a table")


def _add_report_verbs(verbs) -> None:
    """pack."""
    pack = verbs.add_parser(
        "pack",
        help="write a bid's evidence pack: the bid, its money, each benefit, the charts, the "
        "quality checks and the lineage of every source file, from the published warehouse or a "
        "kept version, as one standalone HTML file or a PDF; or every bid's (--all), or the "
        "panel report across bids (--portfolio)",
    )
    pack.add_argument("bid", metavar="BID", nargs="?", help="the bid's id, e.g. PIF-2014-NM01")
    pack.add_argument(
        "--all", action="store_true", help="every bid's pack, into the folder --out names"
    )
    pack.add_argument(
        "--portfolio",
        action="store_true",
        help="the panel report: a summary table (what changed since the kept version before), "
        "then every bid on pages of its own",
    )
    pack.add_argument(
        "--scope", metavar="AREA", help="with --portfolio: only the bids of this county"
    )
    pack.add_argument(
        "--within",
        metavar="ORGS",
        help="read the warehouse within the access of these organisations (codes separated by "
        "commas, as the access file grants them): the pack a commissioner or analyst of them "
        "downloads from the Bid page",
    )
    pack.add_argument(
        "--version",
        metavar="RUN",
        help="the kept version published by run RUN (`bluelight versions`; default: the "
        "published warehouse)",
    )
    pack.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where to write it (default pack-BID-RUN.html; with --all a folder, packs-RUN; "
        "with --portfolio panel-AREA-RUN.html)",
    )
    pack.add_argument("--format", choices=("html", "pdf"), default="html", help="html or pdf")


def _add_server_verbs(verbs) -> None:
    """deploy."""
    deploy = verbs.add_parser(
        "deploy",
        help="write the systemd units that run the Prefect server, the nightly load and the "
        "dashboard on this server, as an unprivileged account with the data directory their only "
        "writable path, filled in for this install; with the settings file and the install script",
    )
    deploy.add_argument(
        "--print",
        action="store_true",
        help="print them (or write them into --out): installs nothing",
    )
    deploy.add_argument(
        "--user", default="bluelight", metavar="NAME", help="the account they run as (bluelight)"
    )
    deploy.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="the data directory (default BLUELIGHT_HOME or ~/.local/share/bluelight)",
    )
    deploy.add_argument("--out", type=Path, metavar="DIR", help="write the files into DIR")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if args.verb == "demo":
        args.seed = settings.demo_seed if args.seed is None else args.seed
        args.scale = settings.demo_scale if args.scale is None else args.scale
    handler = {
        "demo": running.demo,
        "run": running.run,
        "serve": running.serve,
        "dashboard": running.dashboard,
        "versions": warehouse.versions,
        "check": warehouse.check,
        "upgrade": warehouse.upgrade,
        "bench": warehouse.bench,
        "sources": sources.sources,
        "init": sources.init,
        "status": sources.status,
        "validate": sources.validate,
        "access-log": security.access_log,
        "pack": reports.pack,
        "deploy": server.deploy,
        "backup": backups.backup,
        "restore": backups.restore,
        "migrate": lake.migrate,
        "catalog": lake.catalog,
    }
    return handler[args.verb](args, settings)
