"""The verbs about the published warehouse: `check` (every quality suite), `versions` (the kept
ones), `upgrade` (its schema moved forward by a night) and `bench`."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys

from flows.settings import Settings


def check(args: argparse.Namespace, settings: Settings) -> int:
    from flows.quality import checks, suites
    from flows.quality.results import critical_failures
    from flows.warehouse import backend, runlog

    if backend.on_lake(settings):
        return _check_lake(args, settings)
    db = settings.build_db if args.build else settings.published_db
    if not db.exists():
        print(f"No warehouse at {db}: run `bluelight run` first.", file=sys.stderr)
        return 1
    refusal = None if args.build else backend.refusal(settings)
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    print(f"Checking {db} against every suite in {suites.SUITES_DIR} ...")
    try:
        # The build copy is written by a run: wait for none. The published file is read-only.
        with runlog.run_lock(settings.home) if args.build else contextlib.nullcontext():
            results, docs = checks.check_warehouse(db, settings.quality_dir)
    except runlog.RunInProgress as exc:
        print(f"Not checked: {exc}", file=sys.stderr)
        return 1
    return _checked(results, docs, critical_failures)


def _checked(results, docs, critical_failures) -> int:
    failed = [r for r in results if not r.success]
    for r in failed:
        print(f"  {r.level.upper():<8} {r.describe()}")
    critical = critical_failures(results)
    print(
        f"{len(results)} expectation result(s): {len(results) - len(failed)} passed, "
        f"{len(critical)} critical failure(s), {len(failed) - len(critical)} warning(s).\n"
        f"Data Docs: {docs}"
    )
    return 1 if critical else 0


def _check_lake(args: argparse.Namespace, settings: Settings) -> int:
    """`check` on the lake: its newest published snapshot, read pinned to it; `--build`, the
    lake as the night left it (its latest snapshot), with no run under way."""
    from flows.quality import checks, suites
    from flows.quality.results import critical_failures
    from flows.warehouse import backend, migrations, runlog

    where = backend.where(settings)
    newest = backend.newest(settings)
    if newest is None and not args.build:
        print(f"No published warehouse on {where}: run `bluelight run` first.", file=sys.stderr)
        return 1
    shown = "its latest snapshot" if args.build else f"published snapshot {newest.snapshot_id}"
    print(f"Checking {where}, {shown}, against every suite in {suites.SUITES_DIR} ...")
    try:
        with runlog.run_lock(settings.home) if args.build else contextlib.nullcontext():
            opened = (
                backend.build(settings)
                if args.build
                else backend.read(settings, newest.snapshot_id)
            )
            with opened as con:
                if not args.build:
                    migrations.refuse_newer(con, where)
                results, docs = checks.check_opened(con, settings.quality_dir)
    except runlog.RunInProgress as exc:
        print(f"Not checked: {exc}", file=sys.stderr)
        return 1
    except migrations.WarehouseTooNew as refused:
        print(refused, file=sys.stderr)
        return 1
    return _checked(results, docs, critical_failures)


def upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Show the published warehouse's schema version and the migrations pending; unless
    `--check`, run the night that applies them (exit status by its outcome, as `run`)."""
    from flows.cli.running import run
    from flows.warehouse import backend, migrations

    db = backend.where(settings)
    try:
        found = backend.check_version(settings)
    except migrations.WarehouseTooNew as refusal:
        print(refusal, file=sys.stderr)
        return 1
    latest = f"this release ({migrations.release()}) is at schema version {migrations.LATEST}"
    if not settings.home.is_dir():
        print(f"No data directory at {settings.home}: set BLUELIGHT_HOME.", file=sys.stderr)
        return 2
    if found is None:
        print(f"No published warehouse at {db}: the first night builds one; {latest}.")
        return 0
    pending = migrations.pending(found.version)
    if not pending:
        print(f"The warehouse {db} is at schema version {found.version}; {latest}: up to date.")
        return 0
    print(f"The warehouse {db} {_version_words(found)}; {latest}. Pending migrations:")
    for migration in pending:
        print(f"  {migration.number:>3}  {migration.description}")
    print(
        "A night applies them to its build copy (raw and audit only gain: no row is changed), "
        "rebuilds the marts dbt finds changed, and publishes when every gate passes; the "
        "published file is never changed in place."
    )
    if args.check:
        print("The next night does it; `bluelight upgrade` runs that night now.")
        return 1
    print("Running the night now (it loads whatever is in the inbox too) ...", flush=True)
    night = argparse.Namespace(
        from_dir=None, as_of=None, since=None, until=None, rerun=None, full_refresh=False
    )
    return run(night, settings)


def _version_words(found) -> str:
    if found.version == 0:
        return (
            "records no schema version (it was built before versions were recorded: every "
            "migration is applied, each leaving what the warehouse already has as it is)"
        )
    return f"is at schema version {found.version} (recorded by release {found.release})"


def bench(args: argparse.Namespace, settings: Settings) -> int:
    from flows.bench import bench, report

    if args.backend == "ducklake":
        return _lake_bench(args, settings)
    home = settings.home / "bench" / args.tier
    measured = bench.run_bench(args.tier, home, seed=settings.demo_seed)
    text = report.render(measured)
    print(text)
    saved = settings.home / "bench" / f"{args.tier}-file.json"
    saved.write_text(report.to_json(measured))
    print(f"The result for `--backend ducklake --file-result`: {saved}")
    if not args.no_doc:
        print(f"Written to {report.write_doc(measured, text)}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def _lake_bench(args: argparse.Namespace, settings: Settings) -> int:
    from flows.bench import lake_bench, lake_report, report
    from flows.warehouse import catalog_server, lake

    file_result = None
    if args.file_result:
        file_result = report.from_json(args.file_result.read_text())
        if file_result.tier != args.tier:
            print(
                f"{args.file_result} is tier {file_result.tier}, not {args.tier}.", file=sys.stderr
            )
            return 2
    home = settings.home / "bench" / f"{args.tier}-ducklake"
    try:
        lake.extension_directory()
        measured = lake_bench.run_lake_bench(
            args.tier, home, seed=settings.demo_seed, file_result=file_result
        )
    except (lake.LakeError, catalog_server.PostgresMissing, lake_bench.LakeBenchRefused) as no:
        print(no, file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    text = lake_report.render(measured)
    print(text)
    if not args.no_doc:
        written = report.write_doc(measured, text, lake_report.BEGIN, lake_report.END)
        print(f"Written to {written}")
    return 0


def _as_of(text: str):
    """The moment `--as-of` names, in this machine's time: the end of a day (YYYY-MM-DD or
    YYYYMMDD), or a time (YYYY-MM-DD HH:MM, seconds and a time zone optional)."""
    from datetime import datetime, time

    for day in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.combine(datetime.strptime(text, day), time.max)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def versions(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import backend, publish

    if backend.on_lake(settings):
        return _lake_versions(args, settings)
    versions = publish.list_versions(settings.published_db)
    if not versions:
        print(
            f"No kept versions in {settings.versions_dir}: each successful run keeps one.",
            file=sys.stderr,
        )
        return 1
    if args.as_of:
        chosen, status = _chosen(versions, args.as_of)
        if chosen is None:
            return status
        print(chosen.path)
        return 0
    print(
        f"Published warehouse: {settings.published_db}\n"
        f"Kept versions in {settings.versions_dir} (kept {settings.keep_versions_days} days; "
        "* is the one published now). Open one with duckdb.connect(path, read_only=True).\n"
    )
    rows = []
    for v in versions:
        published = f"{v.published_at:%Y-%m-%d %H:%M:%S}" if v.published_at else ""
        rows.append(["*" if v.current else "", v.run_id, published, f"{v.size_bytes / 1e6:.1f}"])
    _table(["", "run id", "published at", "size MB"], rows, versions, left=3)
    return 0


def _chosen(versions: list, as_of: str) -> tuple[object | None, int]:
    """The version in force at `--as-of`, or None and the exit status (having said why): 2 for
    a value that is no date, 1 when no version was in force."""
    from flows.warehouse import publish

    moment = _as_of(as_of)
    if moment is None:
        print(
            f"--as-of takes a date as YYYY-MM-DD (or a time, YYYY-MM-DD HH:MM:SS), not {as_of!r}",
            file=sys.stderr,
        )
        return None, 2
    chosen = publish.version_as_of(versions, moment)
    if chosen is None:
        print(f"No kept version was published by the end of {as_of}.", file=sys.stderr)
    return chosen, 1


def _table(header: list[str], rows: list[list[str]], versions: list, left: int) -> None:
    """The versions as a table, each row followed by its key tables' row counts; the first
    `left` columns aligned left; then any version that could not be read, on stderr."""
    from flows.warehouse import publish

    tables = publish.KEY_TABLES
    header = [*header, *tables.values()]
    rows = [
        [*row, *("" if v.row_counts.get(t) is None else f"{v.row_counts[t]:,}" for t in tables)]
        for row, v in zip(rows, versions, strict=True)
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print(
            "  ".join(
                str(c).rjust(w) if i >= left else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    for v in versions:
        if v.error:
            print(f"  {v.run_id}: could not be read: {v.error}", file=sys.stderr)


def _lake_versions(args: argparse.Namespace, settings: Settings) -> int:
    """`versions` on the lake: its published snapshots, each read at its snapshot."""
    from flows.warehouse import backend, lake_versions

    versions = lake_versions.list_versions(settings)
    if not versions:
        print(
            f"No published snapshots on {backend.where(settings)}: each successful run "
            "publishes one.",
            file=sys.stderr,
        )
        return 1
    if args.as_of:
        chosen, status = _chosen(versions, args.as_of)
        if chosen is None:
            return status
        print(lake_versions.attach_statement(settings, chosen.snapshot_id))
        return 0
    newest = versions[-1].snapshot_id
    print(
        f"Published warehouse: {backend.where(settings)}\n"
        f"Published snapshots kept (kept {settings.keep_versions_days} days; * is the one "
        "published now). Open one read-only in DuckDB, with the ducklake and postgres "
        "extensions loaded, by attaching it pinned to its snapshot, e.g. the newest:\n"
        f"  {lake_versions.attach_statement(settings, newest)};\n"
        "(`bluelight versions --as-of DATE` prints the statement for the version in force then.)\n"
    )
    rows = [
        [
            "*" if v.current else "",
            str(v.snapshot_id),
            v.run_id,
            f"{v.published_at:%Y-%m-%d %H:%M:%S}",
        ]
        for v in versions
    ]
    _table(["", "snapshot", "run id", "published at"], rows, versions, left=4)
    return 0
