"""The verbs about the published warehouse: `check` (every quality suite), `versions` (the kept
ones) and `bench`."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys

from flows.settings import Settings


def check(args: argparse.Namespace, settings: Settings) -> int:
    from flows.quality import checks, suites
    from flows.quality.results import critical_failures
    from flows.warehouse import runlog

    db = settings.build_db if args.build else settings.published_db
    if not db.exists():
        print(f"No warehouse at {db}: run `bluelight run` first.", file=sys.stderr)
        return 1
    print(f"Checking {db} against every suite in {suites.SUITES_DIR} ...")
    try:
        # The build copy is written by a run: wait for none. The published file is read-only.
        with runlog.run_lock(settings.home) if args.build else contextlib.nullcontext():
            results, docs = checks.check_warehouse(db, settings.quality_dir)
    except runlog.RunInProgress as exc:
        print(f"Not checked: {exc}", file=sys.stderr)
        return 1
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


def bench(args: argparse.Namespace, settings: Settings) -> int:
    from flows.bench import bench, report

    home = settings.home / "bench" / args.tier
    measured = bench.run_bench(args.tier, home, seed=settings.demo_seed)
    text = report.render(measured)
    print(text)
    if not args.no_doc:
        print(f"Written to {report.write_doc(measured, text)}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def versions(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, time

    from flows.warehouse import publish

    versions = publish.list_versions(settings.published_db)
    if not versions:
        print(
            f"No kept versions in {settings.versions_dir}: each successful run keeps one.",
            file=sys.stderr,
        )
        return 1
    if args.as_of:
        try:
            day = datetime.strptime(args.as_of, "%Y-%m-%d")
        except ValueError:
            print(f"--as-of takes a date as YYYY-MM-DD, not {args.as_of!r}", file=sys.stderr)
            return 2
        chosen = publish.version_as_of(versions, datetime.combine(day, time.max))
        if chosen is None:
            print(f"No kept version was published by the end of {args.as_of}.", file=sys.stderr)
            return 1
        print(chosen.path)
        return 0
    print(
        f"Published warehouse: {settings.published_db}\n"
        f"Kept versions in {settings.versions_dir} (kept {settings.keep_versions_days} days; "
        "* is the one published now). Open one with duckdb.connect(path, read_only=True).\n"
    )
    tables = publish.KEY_TABLES
    header = ["", "run id", "published at", "size MB", *tables.values()]
    rows = []
    for v in versions:
        counts = ["" if v.row_counts.get(t) is None else f"{v.row_counts[t]:,}" for t in tables]
        published = f"{v.published_at:%Y-%m-%d %H:%M:%S}" if v.published_at else ""
        rows.append(
            ["*" if v.current else "", v.run_id, published, f"{v.size_bytes / 1e6:.1f}", *counts]
        )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print(
            "  ".join(
                str(c).rjust(w) if i > 2 else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    for v in versions:
        if v.error:
            print(f"  {v.run_id}: could not be read: {v.error}", file=sys.stderr)
    return 0
