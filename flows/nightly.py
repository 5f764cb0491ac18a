"""The nightly flow (Prefect): discover -> ingest -> freshness -> check loaded rows -> dbt build
-> check marts -> publish. One flow, small tasks; retries only where I/O can fail.

A failed run publishes nothing: the last good warehouse stays in place, files that were not
refused stay in the inbox for the next run, and the run's record still lands in runs.jsonl. A
failed or partly failed run is reported to the operator (flows/notify.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import freshness, ingest, lineage, notify, publish, runlog
from flows.contracts import SOURCES
from flows.settings import Settings

if TYPE_CHECKING:
    from flows import quality  # imported by the tasks that use it, see _warm_up


class GateFailed(RuntimeError):
    """A critical quality check or a dbt test failed; nothing is published."""


@dataclass
class FileOutcome:
    path: str
    source: str
    status: str  # loaded, skipped, rejected
    rows: int = 0
    quarantined: int = 0
    load_id: str | None = None
    reason: str | None = None


@task(cache_policy=NO_CACHE)
def prepare_build(settings: Settings) -> None:
    publish.prepare_build(settings.published_db, settings.build_db)
    with duckdb.connect(str(settings.build_db)) as con:
        ingest.ensure_schema(con)
        publish.recover_interrupted(con, settings)


def download_may_recover(task, task_run, state) -> bool:
    """Retry a download the network or a busy server spoilt; not a wrong address (HTTP 404)."""
    return getattr(state.result(raise_on_failure=False), "transient", False)


# Publishers' sites drop connections: retried with back-off. An unchanged release is the same
# bytes, so ingest records it as already loaded and skips it.
@task(
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    retry_condition_fn=download_may_recover,
)
def fetch_published(settings: Settings, source: str, url: str) -> str:
    from flows.published import download

    return str(download(url, settings.inbox / source))


@task(cache_policy=NO_CACHE)
def discover(settings: Settings) -> list[ingest.InboxFile]:
    return ingest.discover(settings.inbox)


def read_failed(task, task_run, state) -> bool:
    """Retry only when reading or copying failed (OSError): anything else is the data's doing,
    and a retry would only repeat it."""
    return isinstance(state.result(raise_on_failure=False), OSError)


# Retried: the inbox may be a network share that drops a read. A contract breach is not an
# exception here (it is returned as a rejection), and other errors are not retried.
@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=read_failed)
def ingest_file(
    settings: Settings, item: ingest.InboxFile, run_id: str, n: int, as_of: datetime
) -> FileOutcome:
    name = item.relative(settings.inbox)
    sha256 = ingest.sha256_of(item.path)
    with duckdb.connect(str(settings.build_db)) as con:

        def refuse(error: ingest.ContractError) -> FileOutcome:
            ingest.reject(
                con,
                item,
                error,
                run_id=run_id,
                rejected_dir=settings.rejected,
                inbox=settings.inbox,
                sha256=sha256,
            )
            return FileOutcome(name, item.folder, "rejected", reason=error.located)

        if item.source is None:
            where = f"the folder {item.folder!r}" if item.folder else "the top of the inbox"
            error = ingest.ContractError(
                name,
                f"no source owns {where}: files go in inbox/<source>/, named as "
                "`bluelight sources` lists them",
            )
            return refuse(error)
        earlier = ingest.already_loaded(con, sha256)
        if earlier:
            # Recorded, not loaded: the archive already holds these bytes.
            con.execute(
                "insert into audit.loaded_files (load_id, run_id, source, original_name, "
                "archive_path, sha256, rows, rows_quarantined, version, loaded_at, status, as_of) "
                "select ?, ?, source, ?, archive_path, sha256, 0, 0, null, ?, 'skipped', ? "
                "from audit.loaded_files where load_id = ?",
                [f"{run_id}-{n:04d}", run_id, name, datetime.now(), as_of, earlier],
            )
            return FileOutcome(name, item.folder, "skipped", reason=f"already loaded as {earlier}")
        try:
            ingest.stage(con, item.path, item.source, name)
        except ingest.ContractError as error:
            return refuse(error)
        archived = ingest.archive_copy(item.path, sha256, settings.archive)
        archive_path = archived.relative_to(settings.home).as_posix()
        load_id = f"{run_id}-{n:04d}"
        loaded_at = datetime.now()
        con.execute("begin")
        rows = ingest.append_raw(
            con,
            item.source,
            load_id=load_id,
            loaded_at=loaded_at,
            archive_path=archive_path,
            sha256=sha256,
        )
        quarantined = ingest.quarantine(
            con, item.source, load_id=load_id, run_id=run_id, source_file=archive_path
        )
        # A corrected file under the same name is the next version of it.
        version = (
            1
            + con.execute(
                "select count(*) from audit.loaded_files "
                "where original_name = ? and status = 'loaded'",
                [name],
            ).fetchone()[0]
        )
        con.execute(
            "insert into audit.loaded_files (load_id, run_id, source, original_name, "
            "archive_path, sha256, rows, rows_quarantined, version, loaded_at, status, as_of) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?)",
            [
                load_id,
                run_id,
                item.folder,
                name,
                archive_path,
                sha256,
                rows,
                quarantined,
                version,
                loaded_at,
                as_of,
            ],
        )
        con.execute("commit")
    return FileOutcome(
        name, item.folder, "loaded", rows=rows, quarantined=quarantined, load_id=load_id
    )


@task(cache_policy=NO_CACHE)
def check_freshness(
    settings: Settings, run_id: str, as_of: datetime
) -> tuple[list[str], list[str]]:
    """Judge every source against its cadence as of the run's as-of time: the warnings, and the
    sources that have gone late since the last run."""
    with duckdb.connect(str(settings.build_db)) as con:
        before = freshness.previous(con, run_id)
        verdicts = freshness.check(con, run_id, as_of)
    return freshness.warnings(verdicts), freshness.gone_late(verdicts, before)


@task(cache_policy=NO_CACHE)
def check_loaded(settings: Settings, run_id: str, outcomes: list[FileOutcome]):
    from flows import quality

    load_ids: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.status == "loaded":
            load_ids.setdefault(outcome.source, []).append(outcome.load_id)
    gate = quality.Gate(settings.quality_dir, run_id)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
        results = quality.check_loaded_rows(con, load_ids, gate)
        quality.record(con, run_id, results, settings.quality_dir)
    gate.build_docs(keep_days=settings.keep_versions_days)
    return results


def dbt_environment(
    build_db: Path, threads: int = 1, memory_limit: str | None = None, tests_from_load: str = ""
) -> None:
    """What the dbt profile and macros read from the environment: the build copy of the
    warehouse, threads, DuckDB's memory limit, and the night's first load for its tests."""
    import os

    os.environ["BLUELIGHT_BUILD_DB"] = str(build_db)
    os.environ["BLUELIGHT_DBT_THREADS"] = str(threads)
    os.environ["BLUELIGHT_DUCKDB_MEMORY_LIMIT"] = memory_limit or Settings().duckdb_memory_limit
    os.environ["BLUELIGHT_TESTS_FROM_LOAD"] = tests_from_load


def invoke_dbt(
    command: list[str],
    build_db: Path,
    work_dir: Path,
    threads: int = 1,
    project: Path | None = None,
    memory_limit: str | None = None,
    tests_from_load: str = "",
    manifest=None,
):
    """dbt in-process on a build copy of the warehouse (never the published file), its target
    and logs in `work_dir`; the file is released when dbt is done. `tests_from_load` limits the
    tests of incremental models, and of views that say `tested_by_load`, to loads from that
    one on (macros/get_where_subquery.sql).
    `manifest`, from an earlier `parse`, spares dbt parsing the project again."""
    dbt_environment(build_db, threads, memory_limit, tests_from_load)
    return _run_dbt(command, work_dir, project or Settings().dbt_project_dir, manifest)


def _run_dbt(command: list[str], work_dir: Path, project: Path, manifest=None):
    """dbt in-process, with the environment dbt_environment set."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    try:
        return dbtRunner(manifest=manifest).invoke(
            [
                *command,
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
                "--target-path",
                str(work_dir / "dbt_target"),
                "--log-path",
                str(work_dir / "dbt_logs"),
                "--no-use-colors",
                "--quiet",
            ]
        )
    finally:
        # The profile keeps the file open for the whole build (reopening it for every model
        # and test cost a third of the build); release it so the flow and readers can open it.
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()


def project_fingerprint(settings: Settings) -> str:
    """What dbt's state:modified does not see: the project's vars (dbt_project.yml) and the raw
    parse macros every staging model calls (flows/ingest.py)."""
    text = (settings.dbt_project_dir / "dbt_project.yml").read_text() + ingest.PARSE_MACROS
    return hashlib.sha256(text.encode()).hexdigest()


FULL = ["--full-refresh"]


def _plan(settings: Settings, loaded: list[str], manifest) -> tuple[list[str], str]:
    """A night's `dbt build` arguments, and why. It builds the models (and tests) downstream of
    the sources it loaded and whatever changed in the dbt project since the build the
    warehouse holds (dbt's state:modified, against the manifest kept in audit.dbt_manifest); the
    rest stays as that build left it. Everything, in full, when a change reaches an incremental
    model (its history would keep the old logic) or the fingerprint differs; everything when the
    warehouse records no build."""
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        saved = con.execute(
            "select manifest, project_fingerprint from audit.dbt_manifest"
        ).fetchone()
    if saved is None:
        return [], "no dbt build recorded in the warehouse: everything"
    if saved[1] != project_fingerprint(settings):
        return FULL, "dbt_project.yml or the parse macros changed: everything, in full"
    state = settings.build_dir / "dbt_state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "manifest.json").write_text(saved[0])
    changed = _run_dbt(
        ["ls", "--resource-type", "model", "--output", "name", "--state", str(state)]
        + ["--select", "state:modified+,config.materialized:incremental"],
        settings.build_dir,
        settings.dbt_project_dir,
        manifest,
    )
    if changed.exception is not None:
        raise GateFailed(
            f"dbt could not compare the project with the last build: {changed.exception}"
        )
    if changed.result:
        return FULL, f"{', '.join(changed.result)} changed since the last build: all, in full"
    sources = [f"source:{SOURCES[name].kind}.{name}+" for name in sorted(set(loaded))]
    selection = [*sources, "state:modified+"]
    return ["--select", *selection, "--state", str(state)], " ".join(selection)


def _record_manifest(settings: Settings, run_id: str) -> None:
    manifest = (settings.build_dir / "dbt_target" / "manifest.json").read_text()
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("begin")
        con.execute("delete from audit.dbt_manifest")
        con.execute(
            "insert into audit.dbt_manifest values (?, ?, ?, ?)",
            [run_id, datetime.now(), project_fingerprint(settings), manifest],
        )
        con.execute("commit")


def _warm_up(pool: ThreadPoolExecutor, settings: Settings) -> Future:
    """Begin, in a thread, the fixed work the later stages need: importing the quality gate
    (Great Expectations, about 3 s) and parsing the dbt project (about 2 s). The first stages
    copy files and run DuckDB, which let go of the GIL, so this costs the night little; done
    in line it added both to every run's start-up. Returns the parse (a manifest, or None to
    let the build parse and say what is wrong), for dbt_build."""
    # Set here, not in the thread: the environment is not safe to write beside other threads.
    dbt_environment(settings.build_db, settings.dbt_threads, settings.duckdb_memory_limit)

    def parse():
        result = _run_dbt(["parse"], settings.build_dir, settings.dbt_project_dir)
        return result.result if result.success else None

    pool.submit(importlib.import_module, "flows.quality")
    return pool.submit(parse)


@task(cache_policy=NO_CACHE)
def dbt_build(
    settings: Settings,
    run_id: str,
    full_refresh: bool = False,
    loaded: list[str] | None = None,
    parsed: Future | None = None,
) -> dict:
    """`dbt build` in-process on the build copy; returns counts by status. `full_refresh`
    rebuilds everything, the incremental models from raw too; otherwise what `_plan` says, and
    the incremental models' tests look only at this run's loads (their ids start with the run
    id and sort after every earlier run's, as the models' own bookmarks assume;
    macros/get_where_subquery.sql). `parsed` is the project as `_warm_up` parsed it."""
    manifest = parsed.result() if parsed else None
    dbt_environment(
        settings.build_db,
        settings.dbt_threads,
        settings.duckdb_memory_limit,
        tests_from_load=run_id,  # the macro tests every row on a full refresh
    )
    if full_refresh:
        arguments, why = FULL, "a full refresh: everything, in full"
    else:
        arguments, why = _plan(settings, loaded or [], manifest)
    get_run_logger().info("dbt build: %s", why)
    result = _run_dbt(["build", *arguments], settings.build_dir, settings.dbt_project_dir, manifest)
    if result.exception is not None:
        raise GateFailed(f"dbt build could not run: {result.exception}")
    counts: dict[str, int] = {}
    failed = []
    for node_result in result.result.results:
        status = str(node_result.status)
        counts[status] = counts.get(status, 0) + 1
        if status in ("error", "fail"):
            failed.append(f"{node_result.node.name}: {node_result.message}")
    if failed or not result.success:
        raise GateFailed("dbt build failed: " + "; ".join(failed[:5]))
    _record_manifest(settings, run_id)
    return counts


@task(cache_policy=NO_CACHE)
def judge_marts(settings: Settings, run_id: str) -> list[str]:
    """Record each mart's sources and those never loaded (flows/lineage.py), from the manifest
    of the build just made; a warning for each mart still waiting for an agency extract."""
    with duckdb.connect(str(settings.build_db)) as con:
        verdicts = lineage.judge(con, lineage.saved_manifest(con))
        lineage.record(con, run_id, verdicts)
    return lineage.warnings(verdicts)


@task(cache_policy=NO_CACHE)
def check_marts(settings: Settings, run_id: str):
    from flows import quality

    gate = quality.Gate(settings.quality_dir, run_id)
    with duckdb.connect(str(settings.build_db)) as con:
        results = quality.check_marts(con, gate)
        quality.record(con, run_id, results, settings.quality_dir)
    gate.build_docs(keep_days=settings.keep_versions_days)
    return results


@task(cache_policy=NO_CACHE)
def write_run_history(settings: Settings, record: runlog.RunRecord) -> None:
    """Replay runs.jsonl, plus this run as it stands, into audit.load_runs of the build."""
    from flows import quality

    rows = runlog.read_log(settings.run_log)
    rows.append(
        {
            **asdict(record),
            "status": "succeeded",
            "finished_at": datetime.now().isoformat(timespec="seconds"),
        }
    )
    with duckdb.connect(str(settings.build_db)) as con:
        quality.replay(con, settings.quality_dir)
        # Replace, not delete-all: a run killed after it published has no line in the log, but
        # its row in the warehouse it published stays.
        con.executemany(
            "insert or replace into audit.load_runs (run_id, started_at, finished_at, status, "
            "files_loaded, files_skipped, files_rejected, rows_loaded, rows_quarantined, "
            "checks_passed, checks_failed, checks_warned, stage_seconds, error, as_of, rerun_of, "
            "warnings, alerts, notified) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    r["run_id"],
                    r["started_at"],
                    r["finished_at"],
                    r["status"],
                    r["files_loaded"],
                    r["files_skipped"],
                    r["files_rejected"],
                    r["rows_loaded"],
                    r.get("rows_quarantined", 0),
                    r["checks_passed"],
                    r["checks_failed"],
                    r["checks_warned"],
                    json.dumps(r["stage_seconds"]),
                    r["error"],
                    r.get("as_of"),
                    r.get("rerun_of"),
                    json.dumps(r.get("warnings", [])),
                    json.dumps(r.get("alerts", [])),
                    r.get("notified"),
                ]
                for r in rows
            ],
        )


@task(cache_policy=NO_CACHE)
def publish_build(settings: Settings) -> None:
    publish.publish(settings.build_db, settings.published_db, keep_days=settings.keep_versions_days)


def _tally(record: runlog.RunRecord, results: list[quality.CheckResult]) -> None:
    record.checks_passed += sum(r.success for r in results)
    record.checks_failed += sum(not r.success and r.level == "critical" for r in results)
    record.checks_warned += sum(not r.success and r.level != "critical" for r in results)


def _gate(results: list[quality.CheckResult], what: str) -> None:
    from flows import quality

    failures = quality.critical_failures(results)
    if failures:
        raise GateFailed(
            f"{len(failures)} critical check(s) failed on {what}: "
            + "; ".join(f.describe() for f in failures[:5])
        )


def summary(record: runlog.RunRecord, outcomes: list[FileOutcome]) -> str:
    lines = [
        f"Run {record.run_id}: {record.status}",
        f"  files: {record.files_loaded} loaded, {record.files_skipped} already loaded, "
        f"{record.files_rejected} rejected; rows loaded: {record.rows_loaded:,}, "
        f"quarantined: {record.rows_quarantined:,}",
        f"  checks: {record.checks_passed} passed, {record.checks_failed} failed (critical), "
        f"{record.checks_warned} warnings",
        "  stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in record.stage_seconds.items()),
    ]
    lines += [f"  rejected {o.path}: {o.reason}" for o in outcomes if o.status == "rejected"]
    lines += [f"  warning: {w}" for w in record.warnings]
    if record.error:
        lines.append(f"  error: {record.error}")
    if record.as_of:
        lines.append(
            f"  as of {record.as_of}" + (f", rerun of {record.rerun_of}" if record.rerun_of else "")
        )
    if record.notified:
        lines.append(f"  operator told: {record.notified}")
    return "\n".join(lines)


def as_of_time(as_of: str | None) -> datetime:
    """The moment a run loads for: now, or the end of a backfill's date (YYYY-MM-DD)."""
    if not as_of:
        return datetime.now().replace(microsecond=0)
    if len(as_of) == 10:
        return datetime.combine(datetime.strptime(as_of, "%Y-%m-%d").date(), time(23, 59, 59))
    return datetime.fromisoformat(as_of)


def _refused(outcomes: list[FileOutcome]) -> list[tuple[str, str]]:
    return [(o.path, o.reason or "") for o in outcomes if o.status == "rejected"]


def _report(
    settings: Settings, outcomes: list[FileOutcome], late: list[str], record: runlog.RunRecord
) -> None:
    """Tell the operator about a failed or partly failed run (runlog.recorded_run's `finish`)."""
    record.alerts = notify.alerts(record, _refused(outcomes), settings, late)
    if not record.alerts:
        return
    try:
        from prefect.runtime import flow_run
        from prefect.utilities.urls import url_for

        ui_url = url_for("flow-run", obj_id=flow_run.id)
    except Exception:  # no UI address (a temporary server): the notice says the rest
        ui_url = None
    subject, text = notify.message(record, settings, summary(record, outcomes), ui_url)
    record.notified = notify.deliver(settings, subject, text)


@flow(name="bluelight-nightly", log_prints=True)
def nightly(
    home: str | None = None,
    as_of: str | None = None,
    rerun_of: str | None = None,
    full_refresh: bool = False,
) -> dict:
    """Load whatever is in the inbox, check it, build the marts and publish if all is well.

    `as_of` (YYYY-MM-DD, for a backfill) is the date the files count as arrived on, and the date
    freshness is judged at; `rerun_of` names the failed run this one reruns; `full_refresh`
    rebuilds dbt's incremental models from raw (done anyway when a boundaries file arrives: the
    months and days already built counted incidents under the old district-to-county mapping).
    """
    settings = Settings.from_env()
    if home:
        settings = dataclasses.replace(settings, home=Path(home))
    settings.ensure_dirs()
    logger = get_run_logger()
    run_id = runlog.new_run_id()
    when = as_of_time(as_of)
    outcomes: list[FileOutcome] = []
    late: list[str] = []  # sources gone late since the last run
    with runlog.run_lock(settings.home), ThreadPoolExecutor(1, "warm-up") as pool:
        parsed = _warm_up(pool, settings)
        try:
            with runlog.recorded_run(
                settings.run_log,
                run_id,
                finish=lambda record: _report(settings, outcomes, late, record),
                as_of=when.isoformat(),
                rerun_of=rerun_of,
            ) as record:
                with record.stage("prepare"):
                    prepare_build(settings)
                with record.stage("fetch"):
                    for source, url in settings.published_urls.items():
                        logger.info("fetched %s", fetch_published(settings, source, url))
                with record.stage("ingest"):
                    found = discover(settings)
                    logger.info("%d file(s) in the inbox", len(found))
                    # Held open for the stage, so each file's task reuses this process's open
                    # database instead of opening the file and checkpointing it on close: one
                    # checkpoint for the night (60 county files: 17-27 s -> 12 s).
                    with duckdb.connect(str(settings.build_db)) as keeper:
                        # No checkpoint until the stage's end: a file under a row group's size
                        # goes to the WAL, and past 16 MB each commit checkpointed the whole
                        # file (region: 21 s of commits -> 4 s, plus 8 s for the one checkpoint).
                        keeper.execute("set checkpoint_threshold = '16GB'")
                        keeper.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
                        for n, item in enumerate(found, start=1):
                            outcome = ingest_file(settings, item, run_id, n, when)
                            outcomes.append(outcome)
                            logger.info(
                                "[%d/%d] %s: %s%s",
                                n,
                                len(found),
                                outcome.path,
                                outcome.status,
                                f" ({outcome.rows:,} rows)" if outcome.rows else "",
                            )
                        keeper.execute("checkpoint")
                record.files_loaded = sum(o.status == "loaded" for o in outcomes)
                record.files_skipped = sum(o.status == "skipped" for o in outcomes)
                record.files_rejected = sum(o.status == "rejected" for o in outcomes)
                record.rows_loaded = sum(o.rows for o in outcomes)
                record.rows_quarantined = sum(o.quarantined for o in outcomes)
                with record.stage("freshness"):
                    record.warnings, gone_late = check_freshness(settings, run_id, when)
                    late.extend(gone_late)
                with record.stage("check_loaded"):
                    results = check_loaded(settings, run_id, outcomes)
                    _tally(record, results)
                    _gate(results, "the loaded rows")
                with record.stage("dbt_build"):
                    boundaries = any(
                        o.source == "boundaries" and o.status == "loaded" for o in outcomes
                    )
                    if boundaries and not full_refresh:
                        logger.info("a boundaries file arrived: incremental models rebuilt in full")
                    loaded = [o.source for o in outcomes if o.status == "loaded"]
                    dbt_build(settings, run_id, full_refresh or boundaries, loaded, parsed)
                with record.stage("check_marts"):
                    record.warnings += judge_marts(settings, run_id)
                    results = check_marts(settings, run_id)
                    _tally(record, results)
                    _gate(results, "the marts")
                with record.stage("publish"):
                    # Why this run will be reported, in its own row (how the report went follows
                    # in the next run's replay of the log).
                    record.alerts = notify.alerts(record, _refused(outcomes), settings, late)
                    write_run_history(settings, record)
                    publish_build(settings)
                # Published: the files are in the archive, so the inbox can let them go.
                for outcome in outcomes:
                    if outcome.status in ("loaded", "skipped"):
                        (settings.inbox / outcome.path).unlink(missing_ok=True)
        finally:
            print(summary(record, outcomes))
    return {
        "run_id": run_id,
        "status": record.status,
        "outcomes": [asdict(o) for o in outcomes],
        "record": asdict(record),
    }
