"""The operator's verbs for the second backend: `migrate --to ducklake` (the published file
warehouse moved onto an empty DuckLake, then checked table by table), `migrate --grants-for
ROLE` (the SQL that makes a PostgreSQL role a reader of the lake) and `catalog start|stop` (a
PostgreSQL for the lake's catalog in a directory of the user's). The work is in
flows/warehouse/lake_migrate.py and flows/warehouse/catalog_server.py; this module says what
happened."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.settings import Settings


def _say(line: str) -> None:
    print(line, flush=True)


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import lake, lake_migrate

    try:
        if args.grants_for:
            catalog = args.catalog or settings.lake_catalog
            print(";\n".join(lake_migrate.grants(catalog, args.grants_for)) + ";")
            return 0
        lake_settings = lake_migrate.lake_settings(settings, args.catalog, args.data_path)
        if args.to is None:
            print("Say where to: --to ducklake (or --grants-for ROLE).", file=sys.stderr)
            return 2
        lake.extension_directory()
        print(
            f"Moving {settings.published_db} onto the lake (data path "
            f"{lake_settings.lake_data_path}) in one snapshot, holding the run lock ...",
            flush=True,
        )
        moved = lake_migrate.migrate(lake_settings, say=_say)
    except (lake_migrate.Refused, lake.LakeError) as refused:
        print(refused, file=sys.stderr)
        return getattr(refused, "status", 1)
    _report(moved, lake_settings)
    return 1 if moved.differing else 0


def _report(moved, lake_settings: Settings) -> None:
    print(
        f"Copied {moved.tables} tables ({moved.rows:,} rows), {moved.views} views and "
        f"{moved.macros} macros in {moved.copy_seconds:.1f} s as snapshot {moved.snapshot} "
        f"(from run {moved.run_id}); {moved.parquet_files} Parquet files, "
        f"{moved.parquet_bytes / 1e6:.1f} MB, under {lake_settings.lake_data_path}."
    )
    if moved.differing:
        print(
            f"Read back in {moved.check_seconds:.1f} s: {len(moved.differing)} table(s) differ "
            f"from the file: {', '.join(moved.differing)}. Do not use this lake; the file "
            "warehouse is unchanged.",
            file=sys.stderr,
        )
        return
    print(
        f"Read back in {moved.check_seconds:.1f} s: every table identical to the file (columns, "
        "row counts, rows both ways). Published as snapshot "
        f"{moved.published}: set BLUELIGHT_BACKEND=ducklake to run nights and the dashboard on "
        "the lake. The file warehouse is unchanged."
    )


def catalog(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import catalog_server

    try:
        if args.action == "stop":
            was_running = catalog_server.stop(args.dir, remove=args.remove)
            done = "stopped" if was_running else "was not running"
            print(f"The catalog in {args.dir} {done}{'; removed' if args.remove else ''}.")
            return 0
        server = catalog_server.catalog(args.dir, args.port)
    except catalog_server.PostgresMissing as missing:
        print(f"{missing} Then run this again.", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as refused:
        print(refused, file=sys.stderr)
        return 1
    print(
        f"The lake's catalog runs in {server.directory} (PostgreSQL, port {server.port}, its "
        "socket only, open to this account alone; log in server.log there). Set:\n"
        f"export BLUELIGHT_LAKE_CATALOG='{server.catalog}'\n"
        "export BLUELIGHT_LAKE_DATA_PATH=/path/to/the/parquet/folder\n"
        f"Stop it with: bluelight catalog stop --dir {server.directory}"
    )
    return 0


def add_verbs(verbs) -> None:
    """migrate, catalog."""
    _add_catalog_verb(verbs)
    migrate_verb = verbs.add_parser(
        "migrate",
        help="move the published file warehouse onto an empty DuckLake in one snapshot, then "
        "check every table reads back identical (docs/scale-out.md)",
    )
    migrate_verb.add_argument("--to", choices=["ducklake"], help="the backend to move to")
    migrate_verb.add_argument(
        "--catalog",
        metavar="CONN",
        help="the lake's PostgreSQL catalog as a libpq connection string (default "
        "BLUELIGHT_LAKE_CATALOG); its password in ~/.pgpass, not here",
    )
    migrate_verb.add_argument(
        "--data-path",
        type=Path,
        metavar="DIR",
        help="the folder the lake's Parquet files go under (default BLUELIGHT_LAKE_DATA_PATH)",
    )
    migrate_verb.add_argument(
        "--grants-for",
        metavar="ROLE",
        help="only print the SQL, for the catalog's database, that lets the PostgreSQL role ROLE "
        "read the lake and write nothing",
    )


def _add_catalog_verb(verbs) -> None:
    catalog_verb = verbs.add_parser(
        "catalog",
        help="start (made first if new) or stop a PostgreSQL for the lake's catalog in a "
        "directory of its own, reached through its socket; prints BLUELIGHT_LAKE_CATALOG "
        "(needs Debian's postgresql package; docs/scale-out.md)",
    )
    catalog_verb.add_argument("action", choices=["start", "stop"])
    catalog_verb.add_argument(
        "--dir", type=Path, required=True, metavar="DIR", help="the catalog's directory"
    )
    catalog_verb.add_argument(
        "--port", type=int, metavar="N", help="its port (default: the one it had, or a free one)"
    )
    catalog_verb.add_argument(
        "--remove",
        action="store_true",
        help="with stop: delete the directory too, and the lake's catalog in it",
    )
