"""The `bluelight` command: one verb per job a user has."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from flows.settings import PROJECT_ROOT, Settings


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from flows.demo.data import write_demo_inbox

    print(f"Writing the demo inbox to {settings.inbox} (seed {args.seed}, scale {args.scale}) ...")
    counts = write_demo_inbox(settings.inbox, seed=args.seed, scale=args.scale)
    print("  " + ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    # The run gets a process of its own, so Prefect's temporary server ends with it and is not
    # left running beside the dashboard.
    status = subprocess.call([sys.executable, "-m", "flows.cli", "run"])
    if status == 0 and not args.no_dashboard:
        return _dashboard(args, settings)
    return status


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from flows.schedule import backfill
    from flows.schedule.nightly import nightly

    try:
        if args.rerun and (args.from_dir or args.as_of):
            raise backfill.BackfillError(
                "--rerun runs as of the failed run's time: no --from/--as-of"
            )
        if (args.since or args.until) and not args.from_dir:
            raise backfill.BackfillError("--since/--until pick dated folders of --from DIR")
        if args.rerun:
            failed = backfill.failed_run(settings.run_log, args.rerun)
            print(
                f"Rerunning {args.rerun} as of {failed.get('as_of') or 'now'}; it failed with: "
                f"{failed.get('error')}"
            )
            batches = [backfill.Batch(None, failed.get("as_of"), args.rerun)]
        elif args.from_dir:
            batches = backfill.plan(args.from_dir, args.as_of, args.since, args.until)
        else:
            as_of = args.as_of and backfill.parse_date(args.as_of, "--as-of")
            batches = [backfill.Batch(None, as_of)]
        for n, batch in enumerate(batches):
            if batch.folder is not None:
                copied = backfill.stage(batch.folder, settings.inbox)
                print(
                    f"{batch.folder}: {copied} file(s) into the inbox, as of {batch.as_of or 'now'}"
                )
            result = nightly(
                home=str(settings.home),
                as_of=batch.as_of,
                rerun_of=batch.rerun_of,
                full_refresh=args.full_refresh and n == 0,
                return_state=True,
            )
            if result.is_failed():
                print(
                    f"The run failed; the published warehouse is unchanged: "
                    f"{settings.published_db}. Its files stay in the inbox: put the cause right, "
                    "then `bluelight run --rerun RUN_ID` (the run id is in the summary above).",
                    file=sys.stderr,
                )
                if n + 1 < len(batches):
                    print(
                        f"Stopped before {batches[n + 1].as_of}: after the rerun, go on with "
                        f"`bluelight run --from {args.from_dir} --since {batches[n + 1].as_of}`.",
                        file=sys.stderr,
                    )
                return 1
    except backfill.BackfillError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Published: {settings.published_db}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Register the nightly deployment on the Prefect server and run it on its schedule."""
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron
    from prefect.settings import get_current_settings

    from flows.schedule.nightly import nightly

    url = get_current_settings().api.url
    start = (
        "Start one with `prefect server start` (it listens on http://127.0.0.1:4200), "
        "then `export PREFECT_API_URL=http://127.0.0.1:4200/api` and run `bluelight serve` again."
    )
    if not url:
        print(f"No Prefect server is set: PREFECT_API_URL is empty. {start}", file=sys.stderr)
        return 2
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        print(
            f"No Prefect server answers at PREFECT_API_URL={url} ({problem}). {start}",
            file=sys.stderr,
        )
        return 2
    try:
        schedule = Cron(settings.schedule_cron, timezone=settings.schedule_timezone)
    except ValueError as error:
        print(
            f"The schedule {settings.schedule_cron!r} in {settings.schedule_timezone} is not "
            f"valid (BLUELIGHT_SCHEDULE_CRON, BLUELIGHT_SCHEDULE_TZ): {error}",
            file=sys.stderr,
        )
        return 2
    print(
        f"Serving the nightly load of {settings.home} at {settings.schedule_cron!r} "
        f"({settings.schedule_timezone}) from {url} (Ctrl+C to stop).",
        flush=True,
    )
    nightly.serve(
        name="nightly",
        schedules=[schedule],
        parameters={"home": str(settings.home)},
        limit=1,  # one load at a time per data directory (runlog.run_lock holds it too)
        entrypoint_type=EntrypointType.MODULE_PATH,  # the installed package, wherever it is
        print_starting_message=False,
    )
    return 0


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.published_db.exists():
        print(
            f"No published warehouse at {settings.published_db}: run `bluelight demo` or "
            "`bluelight run` first.",
            file=sys.stderr,
        )
        return 1
    os.environ["BLUELIGHT_HOME"] = str(settings.home)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(settings.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" to a cloud: nothing leaves the machine
    ]
    print(f"Dashboard on http://127.0.0.1:{settings.dashboard_port} (Ctrl+C to stop)", flush=True)
    os.execv(sys.executable, command)  # Streamlit takes over this process: one to stop, not two


def _sources(args: argparse.Namespace, settings: Settings) -> int:
    from flows.sources.contracts import SOURCES
    from flows.transform import dbt_yaml

    if args.template:
        return _template(args)
    if args.write:
        from flows.quality import suites

        for path in [*dbt_yaml.write(), *suites.write_source_suites()]:
            print(f"wrote {path}")
        return 0
    from flows.sources.contracts import TYPE_FORMATS

    for source in SOURCES.values():
        if args.name and source.name != args.name:
            continue
        print(
            f"{source.name}  (inbox/{source.name}/; {', '.join(source.formats)}; "
            f"key: {', '.join(source.key)}; expected {source.cadence.describe()})"
        )
        print(f"  {source.description}")
        if args.name:
            for c in source.columns:
                kind = "|".join(c.allowed) if c.allowed else TYPE_FORMATS[c.type]
                need = "required" if c.required else "optional"
                print(f"    {c.name:<26} {need:<9} {kind}: {c.description}")
    return 0


def _template(args: argparse.Namespace) -> int:
    from flows.sources import templates

    if not args.name:
        print("--template needs a source: `bluelight sources NAME --template`", file=sys.stderr)
        return 2
    out = args.out or Path(f"{args.name}.{args.format}")
    try:
        written = templates.write_template(args.name, args.format, out)
    except templates.TemplateError as error:
        print(error, file=sys.stderr)
        return 2
    print(
        f"wrote {written}: the {args.name} contract's columns and one worked example row"
        + ("; the sheet 'Columns' describes each column" if args.format == "xlsx" else "")
        + f". Replace the example with your rows, then put the file in inbox/{args.name}/ "
        f"(check it first with `bluelight validate {written} --source {args.name}`)."
    )
    return 0


def _init(args: argparse.Namespace, settings: Settings) -> int:
    from flows.sources.contracts import SOURCES

    settings.ensure_dirs()
    for name in SOURCES:
        (settings.inbox / name).mkdir(exist_ok=True)
    print(f"Data directory ready: {settings.home}")
    print(f"Put each file in {settings.inbox}/<source>/ (`bluelight sources` lists them):")
    for name, source in SOURCES.items():
        print(f"  inbox/{name + '/':<26} {source.kind}: {source.cadence.describe()}")
    print("Then `bluelight run` loads them; `bluelight status` says what has loaded.")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import status

    print(status.report(settings))
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    from flows.load import validate

    if not args.file.is_file():
        print(f"No file at {args.file}", file=sys.stderr)
        return 2
    verdict = validate.validate(args.file, args.source, settings.published_db)
    print(verdict.report())
    return 1 if verdict.verdict == validate.REJECT else 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
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


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from flows.bench import bench

    home = settings.home / "bench" / args.tier
    report = bench.run_bench(args.tier, home, seed=settings.demo_seed)
    text = bench.render(report)
    print(text)
    if not args.no_doc:
        print(f"Written to {bench.write_doc(report, text)}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def _versions(args: argparse.Namespace, settings: Settings) -> int:
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
    verbs.add_parser("dashboard", help="serve the Streamlit dashboard on the published warehouse")


def _add_warehouse_verbs(verbs) -> None:
    """versions, bench, check."""
    versions = verbs.add_parser(
        "versions",
        help="list the kept versions of the published warehouse: run id, time, size, row counts",
    )
    versions.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="print only the path of the version that was published at the end of that day",
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


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.verb == "demo":
        args.seed = settings.demo_seed if args.seed is None else args.seed
        args.scale = settings.demo_scale if args.scale is None else args.scale
    handler = {
        "demo": _demo,
        "run": _run,
        "serve": _serve,
        "dashboard": _dashboard,
        "versions": _versions,
        "check": _check,
        "bench": _bench,
        "sources": _sources,
        "init": _init,
        "status": _status,
        "validate": _validate,
    }
    return handler[args.verb](args, settings)


if __name__ == "__main__":
    sys.exit(main())
