"""The nightly flow (Prefect): version -> room -> prepare (and migrate) -> fetch -> ingest ->
freshness -> check loaded rows -> dbt build -> judge marts -> check marts -> publish (unless
nothing is new) -> clear the inbox. `nightly()` is that list; each task is a small function
here calling into the room that owns the work. Retries only where I/O can fail.

A night ends in one of three outcomes (flows/warehouse/runlog.py): succeeded; succeeded with
refusals (a file refused or rows set aside, the rest published); failed. A failed run publishes
nothing and takes back what it wrote (its build copy and its archive copies: flows/warehouse/
room.py): the last good warehouse stays in place, files that were not refused stay in the inbox
for the next run, and the run's record still lands in runs.jsonl. A night that loaded nothing new
and changed no mart keeps the published version. Any outcome but a clean success is reported to
the operator (flows/schedule/notify.py).

A warehouse a newer release built is refused before anything is written; one an older release
built is moved forward on the build copy by the migrations it has not had
(flows/warehouse/migrations.py), and the night publishes it even if nothing else is new.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed

from flows.load import inbox, raw
from flows.load.inbox import InboxFile
from flows.load.raw import FileOutcome
from flows.load.recover import recover_interrupted
from flows.quality.results import CheckResult, enforce
from flows.schedule import freshness, notify
from flows.settings import Settings
from flows.sources.fetch import download
from flows.transform import dbt, lineage
from flows.warehouse import backend, migrations, publish, room, runlog
from flows.warehouse.schema import ensure_schema


@dataclass
class Night:
    """One run of the flow: its id, the moment it loads for, and what it has done so far."""

    run_id: str
    as_of: datetime
    rerun_of: str | None = None
    outcomes: list[FileOutcome] = field(default_factory=list)
    late: list[str] = field(default_factory=list)  # sources gone late since the last run
    migrated: list[int] = field(default_factory=list)  # the migrations the build copy had
    record: runlog.RunRecord | None = None


@task(cache_policy=NO_CACHE)
def check_version(settings: Settings) -> None:
    """Refuse the night, before it writes anything, when a newer release built the published
    warehouse (its schema version is past this code's last migration)."""
    backend.check_version(settings)


@task(cache_policy=NO_CACHE)
def check_room(settings: Settings) -> None:
    """Refuse the night, before it writes anything, when the disk lacks the room it needs."""
    room.check(settings)


@task(cache_policy=NO_CACHE)
def prepare_build(settings: Settings, run_id: str) -> list[int]:
    """The build copy, at this code's schema; the numbers of the migrations it took."""
    backend.prepare(settings)
    with backend.build(settings) as con:
        # Under the run's limit: the first night of a release that adds accepted tables parses
        # the whole history into them here.
        con.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
        applied = ensure_schema(con, run_id)
        recover_interrupted(con, settings)
    for migration in applied:
        get_run_logger().info("migration %d: %s", migration.number, migration.description)
    return [m.number for m in applied]


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
    return str(download(url, settings.inbox / source))


@task(cache_policy=NO_CACHE)
def discover(settings: Settings) -> list[InboxFile]:
    return inbox.discover(settings.inbox)


def read_failed(task, task_run, state) -> bool:
    """Retry only when reading or copying failed (OSError): anything else is the data's doing,
    and a retry would only repeat it."""
    return isinstance(state.result(raise_on_failure=False), OSError)


# Retried: the inbox may be a network share that drops a read. A contract breach is not an
# exception here (it is returned as a rejection), and other errors are not retried.
@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=read_failed)
def ingest_file(
    settings: Settings, item: InboxFile, run_id: str, n: int, as_of: datetime
) -> FileOutcome:
    with backend.build(settings) as con:
        return raw.load_file(con, settings, item, f"{run_id}-{n:04d}", run_id, as_of)


def ingest(settings: Settings, night: Night) -> list[FileOutcome]:
    """Every file in the inbox into raw of the build copy, one task each, in load order."""
    logger = get_run_logger()
    found = discover(settings)
    logger.info("%d file(s) in the inbox", len(found))
    outcomes = []
    with _held_open(settings):
        for n, item in enumerate(found, start=1):
            outcome = ingest_file(settings, item, night.run_id, n, night.as_of)
            outcomes.append(outcome)
            rows = f" ({outcome.rows:,} rows)" if outcome.rows else ""
            logger.info("[%d/%d] %s: %s%s", n, len(found), outcome.path, outcome.status, rows)
    return outcomes


@contextmanager
def _held_open(settings: Settings) -> Iterator[None]:
    """On the file backend, the build copy held open for the ingest stage, so each file's task
    reuses this process's open database instead of opening the file and checkpointing it on
    close: one checkpoint for the night (60 county files: 17-27 s -> 12 s). A lake has no
    file to hold: each file's load commits its own snapshot."""
    if backend.on_lake(settings):
        yield
        return
    with duckdb.connect(str(settings.build_db)) as keeper:
        # No checkpoint until the stage's end: a file under a row group's size goes to the WAL,
        # and past 16 MB each commit checkpointed the whole file (region: 21 s of commits ->
        # 4 s, plus 8 s for the one checkpoint).
        keeper.execute("set checkpoint_threshold = '16GB'")
        keeper.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
        yield
        keeper.execute("checkpoint")


@task(cache_policy=NO_CACHE)
def check_freshness(
    settings: Settings, run_id: str, as_of: datetime
) -> tuple[list[str], list[str]]:
    """Judge every source against its cadence as of the run's as-of time: the warnings, and the
    sources that have gone late since the last run."""
    with backend.build(settings) as con:
        before = freshness.previous(con, run_id)
        verdicts = freshness.check(con, run_id, as_of)
    return freshness.warnings(verdicts), freshness.gone_late(verdicts, before)


@task(cache_policy=NO_CACHE)
def check_loaded(settings: Settings, run_id: str, outcomes: list[FileOutcome]):
    from flows.quality import checks, gate

    load_ids: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.status == "loaded":
            load_ids.setdefault(outcome.source, []).append(outcome.load_id)
    run_gate = gate.Gate(settings.quality_dir, run_id)
    with backend.build(settings) as con:
        con.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
        results = checks.check_loaded_rows(con, load_ids, run_gate)
        gate.record(con, run_id, results, settings.quality_dir)
    run_gate.build_docs(keep_days=settings.keep_versions_days)
    return results


def _warm_up(pool: ThreadPoolExecutor, settings: Settings) -> Future:
    """Begin, in a thread, the fixed work the later stages need: importing the quality gate
    (Great Expectations, about 3 s) and parsing the dbt project (about 2 s). The first stages
    copy files and run DuckDB, which let go of the GIL, so this costs the night little; done
    in line it added both to every run's start-up. Returns the parse, for dbt_build."""
    parsed = dbt.start_parse(pool, settings)
    pool.submit(importlib.import_module, "flows.quality.checks")
    return parsed


@task(cache_policy=NO_CACHE)
def dbt_build(
    settings: Settings,
    run_id: str,
    outcomes: list[FileOutcome],
    full_refresh: bool = False,
    parsed: Future | None = None,
) -> dict:
    """`dbt build` of what the night's loads reach (flows/transform/dbt.py); everything, in
    full, on `full_refresh` or when a boundaries file arrived (the months and days already built
    counted incidents under the old district-to-county mapping)."""
    loaded = [o.source for o in outcomes if o.status == "loaded"]
    boundaries = "boundaries" in loaded
    if boundaries and not full_refresh:
        get_run_logger().info("a boundaries file arrived: incremental models rebuilt in full")
    manifest = parsed.result() if parsed else None
    return dbt.build(settings, run_id, full_refresh or boundaries, loaded, manifest)


def nothing_new(settings: Settings, night: Night, built: dict) -> bool:
    """Whether the night changed nothing a reader would see: no file loaded or refused, no row
    set aside, no mart rebuilt, no source gone late and no migration, over a warehouse already
    published. Its build would be the published version again under a new name, so it is not
    published."""
    record = night.record
    changed = record.files_loaded or record.files_rejected or record.rows_quarantined
    changed = changed or night.migrated
    return not (changed or built.get("models_built") or night.late) and (
        backend.has_published(settings)
    )


def keep_published(settings: Settings, record: runlog.RunRecord) -> None:
    """Nothing new: drop the build copy; the published version stays (kept as a version, which
    a run killed between its rename and its link left undone)."""
    record.published = False
    if backend.on_lake(settings):
        backend.discard(settings)
        get_run_logger().info("nothing new: the published version stays")
        return
    room.remove_build(settings)
    kept = publish.keep_version(settings.published_db)
    get_run_logger().info(
        "nothing new: the published version stays (%s)", kept.name if kept else "the same file"
    )


@task(cache_policy=NO_CACHE)
def judge_marts(settings: Settings, run_id: str) -> list[str]:
    """Record each mart's sources and those never loaded (flows/transform/lineage.py), from the
    manifest of the build just made; a warning for each mart still waiting for an agency
    extract."""
    with backend.build(settings) as con:
        verdicts = lineage.judge(con, lineage.saved_manifest(con))
        lineage.record(con, run_id, verdicts)
    return lineage.warnings(verdicts)


@task(cache_policy=NO_CACHE)
def check_marts(settings: Settings, run_id: str):
    from flows.quality import checks, gate

    run_gate = gate.Gate(settings.quality_dir, run_id)
    with backend.build(settings) as con:
        results = checks.check_marts(con, run_gate)
        gate.record(con, run_id, results, settings.quality_dir)
    run_gate.build_docs(keep_days=settings.keep_versions_days)
    return results


@task(cache_policy=NO_CACHE)
def write_run_history(settings: Settings, record: runlog.RunRecord) -> None:
    """Replay runs.jsonl, plus this run as it stands, into audit of the build."""
    from flows.quality import gate

    with backend.build(settings) as con:
        gate.replay(con, settings.quality_dir)
        runlog.write_history(con, settings.run_log, record)


@task(cache_policy=NO_CACHE)
def publish_build(settings: Settings, run_id: str) -> None:
    backend.publish(settings, run_id)


def clear_inbox(settings: Settings, outcomes: list[FileOutcome]) -> None:
    """Published: the files are in the archive, so the inbox can let them go (with the sidecars
    saying who sent them)."""
    for outcome in outcomes:
        if outcome.status in ("loaded", "skipped"):
            inbox.remove(settings.inbox / outcome.path)


def _gate(record: runlog.RunRecord, results: list[CheckResult], what: str) -> None:
    """Count the results in the run's record; stop the run on a critical failure."""
    record.checks_passed += sum(r.success for r in results)
    record.checks_failed += sum(not r.success and r.level == "critical" for r in results)
    record.checks_warned += sum(not r.success and r.level != "critical" for r in results)
    enforce(results, what)


def _count_files(record: runlog.RunRecord, outcomes: list[FileOutcome]) -> None:
    record.files_loaded = sum(o.status == "loaded" for o in outcomes)
    record.files_skipped = sum(o.status == "skipped" for o in outcomes)
    record.files_rejected = sum(o.status == "rejected" for o in outcomes)
    record.rows_loaded = sum(o.rows for o in outcomes)
    record.rows_quarantined = sum(o.quarantined for o in outcomes)


def as_of_time(as_of: str | None) -> datetime:
    """The moment a run loads for: now, or the end of a backfill's date (YYYY-MM-DD)."""
    if not as_of:
        return datetime.now().replace(microsecond=0)
    if len(as_of) == 10:
        return datetime.combine(datetime.strptime(as_of, "%Y-%m-%d").date(), time(23, 59, 59))
    return datetime.fromisoformat(as_of)


def _refused(outcomes: list[FileOutcome]) -> list[tuple[str, str]]:
    return [(o.path, o.reason or "") for o in outcomes if o.status == "rejected"]


def _alerts(settings: Settings, night: Night, record: runlog.RunRecord) -> list[str]:
    return notify.alerts(record, _refused(night.outcomes), settings, night.late)


def _report(settings: Settings, night: Night, record: runlog.RunRecord) -> None:
    """Tell the operator about a failed or partly failed run (runlog.recorded_run's `finish`)."""
    record.alerts = _alerts(settings, night, record)
    if not record.alerts:
        return
    try:
        from prefect.runtime import flow_run
        from prefect.utilities.urls import url_for

        ui_url = url_for("flow-run", obj_id=flow_run.id)
    except Exception:  # no UI address (a temporary server): the notice says the rest
        ui_url = None
    subject, text = notify.message(record, settings, notify.summary(record, night.outcomes), ui_url)
    record.notified = notify.deliver(settings, subject, text)


@contextmanager
def _recorded(settings: Settings, night: Night) -> Iterator[tuple[runlog.RunRecord, Future]]:
    """Hold the run lock, record the run (reporting it to the operator when it fails or partly
    fails), check the room it needs and start the warm-up; take back the files a failed run
    wrote before its record is written, so a full disk has room for the record; print its
    summary at the end, whatever happened. Yields the run's record and the warm-up's parse."""
    with ThreadPoolExecutor(1, "warm-up") as pool:
        try:
            with runlog.recorded_run(
                settings.run_log,
                night.run_id,
                finish=lambda record: _report(settings, night, record),
                as_of=night.as_of.isoformat(),
                rerun_of=night.rerun_of,
            ) as record:
                night.record = record
                # A backup or another run holding the data directory is waited for; a night
                # that cannot start is recorded and reported as failed, never lost quietly.
                with runlog.run_lock(settings.home, settings.run_lock_wait_seconds):
                    check_version(settings)  # before anything is read but its version
                    check_room(settings)  # before anything is written, the warm-up's too
                    archive_before = room.archive_names(settings)
                    try:
                        yield record, _warm_up(pool, settings)
                    except BaseException:
                        room.remove_partial_files(settings, archive_before)
                        raise
        finally:
            print(notify.summary(night.record, night.outcomes))


@flow(name="bluelight-nightly", log_prints=True)
def nightly(
    home: str | None = None,
    as_of: str | None = None,
    rerun_of: str | None = None,
    full_refresh: bool = False,
) -> dict | Completed:
    """Load whatever is in the inbox, check it, build the marts and publish if all is well: the
    run's result, in a state named "Succeeded with refusals" when it refused files or rows.

    `as_of` (YYYY-MM-DD, for a backfill) is the date the files count as arrived on, and the date
    freshness is judged at; `rerun_of` names the failed run this one reruns; `full_refresh`
    rebuilds dbt's incremental models from raw (done anyway when a boundaries file arrives).
    """
    settings = Settings.from_env()
    if home:
        settings = dataclasses.replace(settings, home=Path(home))
    settings.ensure_dirs()
    night = Night(runlog.new_run_id(), as_of_time(as_of), rerun_of)
    with _recorded(settings, night) as (record, parsed):
        with record.stage("prepare"):
            night.migrated = prepare_build(settings, night.run_id)
        with record.stage("fetch"):
            for source, url in settings.published_urls.items():
                get_run_logger().info("fetched %s", fetch_published(settings, source, url))
        with record.stage("ingest"):
            night.outcomes += ingest(settings, night)
        _count_files(record, night.outcomes)
        with record.stage("freshness"):
            record.warnings, gone_late = check_freshness(settings, night.run_id, night.as_of)
            night.late += gone_late
        with record.stage("check_loaded"):
            _gate(record, check_loaded(settings, night.run_id, night.outcomes), "the loaded rows")
        with record.stage("dbt_build"):
            in_full = full_refresh or migrations.full_refresh_after(night.migrated)
            built = dbt_build(settings, night.run_id, night.outcomes, in_full, parsed)
        with record.stage("check_marts"):
            record.warnings += judge_marts(settings, night.run_id)
            _gate(record, check_marts(settings, night.run_id), "the marts")
        with record.stage("publish"):
            if nothing_new(settings, night, built):
                keep_published(settings, record)
            else:
                # Why this run will be reported, in its own row (how the report went follows
                # in the next run's replay of the log).
                record.alerts = _alerts(settings, night, record)
                record.published = True
                write_run_history(settings, record)
                publish_build(settings, night.run_id)
        clear_inbox(settings, night.outcomes)
    result = {
        "run_id": night.run_id,
        "status": record.status,
        "outcomes": [asdict(o) for o in night.outcomes],
        "record": asdict(record),
    }
    if record.status == runlog.WITH_REFUSALS:  # its own name in the Prefect UI, not "Completed"
        alerts = "; ".join(record.alerts)
        return Completed(data=result, name="Succeeded with refusals", message=alerts)
    return result
