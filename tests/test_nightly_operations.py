"""Nightly without anyone there: served on a schedule by a real Prefect server, the operator told
of a failed or partly failed run, late sources flagged, and a missed night put right by a backfill
(and a failed run by a rerun) that matches what an on-time load publishes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import mart_rows, settings_for
from handmade import write_b3, write_handmade_inbox
from receivers import Receivers

from flows import cli
from flows.schedule import backfill, freshness, notify
from flows.settings import TELEMETRY_OFF, Settings
from flows.warehouse.runlog import RunRecord, read_log
from flows.warehouse.schema import ensure_schema

NETWATCH = Path(__file__).resolve().parent / "netwatch"
STAGE_TASKS = {
    "prepare_build",
    "discover",
    "ingest_file",
    "check_freshness",
    "check_loaded",
    "dbt_build",
    "check_marts",
    "write_run_history",
    "publish_build",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, seconds: float, probe):
    """Call probe until it returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def marts(home: Path) -> dict:
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {t: mart_rows(con, f"marts.{t}") for t in tables}


@pytest.fixture(scope="module")
def receivers():
    found = Receivers()
    yield found
    found.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, receivers):
    """A real Prefect server on loopback, `bluelight serve` against it, and one run of the served
    deployment triggered through the API on tonight's files (the hand-made inbox, the third bid
    with its register, and a file in no source's folder), seen to the end; then both stopped."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    root = tmp_path_factory.mktemp("served")
    home = root / "bluelight"
    write_handmade_inbox(home / "inbox")
    write_b3(home / "inbox", register=True)
    (home / "inbox" / "parking").mkdir()
    (home / "inbox" / "parking" / "notes.csv").write_text("a,b\n1,2\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    netwatch_log = root / "netwatch.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BLUELIGHT_"))}
    env |= TELEMETRY_OFF | {
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_API_URL": url,
        "PYTHONPATH": str(NETWATCH),
        "BLUELIGHT_NETWATCH_LOG": str(netwatch_log),
        "BLUELIGHT_HOME": str(home),
        "BLUELIGHT_NOTIFY_WEBHOOK": receivers.webhook_url,
    }
    bin_dir = Path(sys.executable).parent
    logs = {name: (root / f"{name}.log").open("w") for name in ("server", "serve")}
    server = subprocess.Popen(
        [str(bin_dir / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=logs["server"],
        stderr=subprocess.STDOUT,
    )
    serve = None
    try:
        with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
            _wait("the Prefect server starting", 120, lambda: client.api_healthcheck() is None)
            serve = subprocess.Popen(
                [str(bin_dir / "bluelight"), "serve"],
                env=env,
                cwd=root,
                stdout=logs["serve"],
                stderr=subprocess.STDOUT,
            )

            def deployment():
                try:
                    return client.read_deployment_by_name("bluelight-nightly/nightly")
                except ObjectNotFound:
                    assert serve.poll() is None, (root / "serve.log").read_text()
                    return None

            found = _wait("bluelight serve registering the deployment", 90, deployment)
            flow_run = client.create_flow_run_from_deployment(found.id)
            final = _wait(
                "the triggered run finishing",
                240,
                lambda: (r := client.read_flow_run(flow_run.id)).state.is_final() and r,
            )
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
            )
        # Not yielded inside the `with`: the tests that follow would talk to this server.
        result = {
            "home": home,
            "deployment": found,
            "flow_run": final,
            "task_names": {t.name.rsplit("-", 1)[0] for t in tasks},
            "logs": root,
            "ui": f"http://127.0.0.1:{port}",
        }
    finally:
        for process in (serve, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        for handle in logs.values():
            handle.close()
    outside = netwatch_log.read_text() if netwatch_log.exists() else ""
    assert outside == "", f"the server or the served runs reached beyond this machine:\n{outside}"
    return result


def test_serve_registers_the_nightly_deployment_and_a_run_triggered_through_the_api_publishes(
    served, receivers
):
    deployment = served["deployment"]
    schedule = deployment.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Europe/London")
    assert deployment.parameters == {"home": str(served["home"])}
    run = served["flow_run"]
    assert run.state.is_completed(), (served["logs"] / "serve.log").read_text()[-3000:]
    # Each stage a task of its own in the Prefect UI.
    assert served["task_names"] >= STAGE_TASKS

    home = served["home"]
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        (run_id, status, warnings, alerts) = con.execute(
            "select run_id, status, warnings, alerts from audit.load_runs"
        ).fetchone()
        freshness_rows = dict(
            con.execute(
                "select source, status from audit.source_freshness where run_id = ?", [run_id]
            ).fetchall()
        )
        assert con.execute("select count(*) from marts.dim_bids").fetchone()[0] == 3
    assert status == "succeeded with refusals"  # parking/notes.csv refused
    assert run.state.name == "Succeeded with refusals"  # so it reads in the Prefect UI, too
    assert (settings_for(home).versions_dir / f"bluelight-{run_id}.duckdb").exists()
    # Tonight's sources are fresh; staffing was never sent (a warning), nor were bid_costs
    # (optional: the bids are costed at their award meanwhile) or the optional published
    # statistics (listed, no warning).
    assert freshness_rows["incidents"] == "fresh"
    assert freshness_rows["benefits_register"] == "fresh"
    assert freshness_rows["staffing"] == "never"
    assert freshness_rows["bid_costs"] == "never"
    assert freshness_rows["ambsys"] == "never"
    assert [w.split(":")[0] for w in json.loads(warnings)] == [
        "staffing never",
        "fct_staffing_monthly is waiting for staffing (inbox/staffing/)",
    ]
    # Published, with a refused file, so the operator hears of it from the served run's own
    # process (the settings reached it through the environment).
    assert json.loads(alerts)[0].startswith("1 file(s) refused: parking/notes.csv: no source")
    (text,) = receivers.posts_about(run_id)
    assert f"Bluelight run {run_id} succeeded with refusals: the rest published" in text
    assert "parking/notes.csv" in text
    assert "Warnings:\n- staffing never" in text
    assert f"the run in the Prefect UI: {served['ui']}/runs/flow-run/{run.id}" in text
    assert read_log(settings_for(home).run_log)[-1]["notified"] == "webhook sent"


def test_the_schedule_stays_at_two_in_the_morning_across_the_clock_changes(served):
    """The server's own schedule arithmetic on the deployment's schedule, across March and
    October 2027: 02:00 GMT is 02:00 UTC, 02:00 BST is 01:00 UTC."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = served["deployment"].schedules[0].schedule
    server_side = CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    london = ZoneInfo("Europe/London")
    for start, utc_hours in (
        (datetime(2027, 3, 26, 12, tzinfo=UTC), [2, 1, 1]),
        (datetime(2027, 10, 29, 12, tzinfo=UTC), [1, 2, 2]),
    ):
        dates = asyncio.run(server_side.get_dates(3, start=start))
        assert [d.astimezone(UTC).hour for d in dates] == utc_hours
        assert {d.astimezone(london).hour for d in dates} == {2}


def test_serve_without_a_server_says_what_is_wrong_and_how_to_start_one(capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    closed = f"http://127.0.0.1:{_free_port()}/api"
    with temporary_settings({PREFECT_API_URL: closed}):
        assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert f"No Prefect server answers at PREFECT_API_URL={closed}" in err
    assert "prefect server start" in err
    assert "export PREFECT_API_URL=http://127.0.0.1:4200/api" in err


def test_a_failed_backfill_tells_the_operator_and_its_rerun_matches_the_on_time_load(
    served, receivers, tmp_path, monkeypatch, capsys
):
    """The night of 2 March 2026 is loaded late from an archive that lacks the third bid's
    register: the marts' check fails, nothing is published, webhook and email both say why. The
    register is found and put in the inbox; the rerun publishes exactly the marts that the
    on-time load (the served run, which had every file) published."""
    archive = tmp_path / "archive"
    write_handmade_inbox(archive / "2026-03-02")
    write_b3(archive / "2026-03-02", register=False)
    home = tmp_path / "home"
    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    monkeypatch.setenv("BLUELIGHT_NOTIFY_WEBHOOK", receivers.webhook_url)
    monkeypatch.setenv("BLUELIGHT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BLUELIGHT_SMTP_PORT", str(receivers.smtp_port))
    monkeypatch.setenv("BLUELIGHT_SMTP_TO", "ops@example.org, duty@example.org")
    settings = Settings.from_env()

    assert cli.main(["run", "--from", str(archive)]) == 1
    assert "Its files stay in the inbox" in capsys.readouterr().err
    failed = read_log(settings.run_log)[-1]
    run_id = failed["run_id"]
    assert failed["status"] == "failed"
    assert failed["as_of"] == "2026-03-02T23:59:59"
    assert failed["notified"] == "webhook sent; email sent"
    reason = "mart.dim_bids: expect_column_values_to_be_between on column 'benefits'"
    (text,) = receivers.posts_about(run_id)
    (mail,) = receivers.mails_about(run_id)
    assert mail["Subject"] == f"Bluelight run {run_id} failed: nothing published"
    assert mail["To"] == "ops@example.org, duty@example.org"
    for body in (text, mail.get_content()):
        assert f"Bluelight run {run_id} failed: nothing published" in body
        assert "the run failed and published nothing (the last good warehouse stays)" in body
        assert reason in body
        assert f"the run's record: {settings.run_log}" in body
        assert f"audit.quality_results where run_id = '{run_id}' and not success" in body
    assert not settings.published_db.exists()
    assert (settings.inbox / "bids" / "bids_b3.csv").exists()  # waiting for the rerun
    assert (archive / "2026-03-02" / "bids" / "bids_b3.csv").exists()  # the archive untouched

    write_b3(settings.inbox, register=True)
    assert cli.main(["run", "--rerun", run_id]) == 0
    assert marts(home) == marts(served["home"])
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        runs = con.execute(
            "select run_id, status, as_of, rerun_of, notified from audit.load_runs order by 1"
        ).fetchall()
        rerun_id = runs[-1][0]
        judged = dict(
            con.execute(
                "select source, (status, last_loaded_at, checked_at) from audit.source_freshness "
                "where run_id = ?",
                [rerun_id],
            ).fetchall()
        )
    end_of_day = datetime(2026, 3, 2, 23, 59, 59)
    assert runs == [
        (run_id, "failed", end_of_day, None, "webhook sent; email sent"),
        (rerun_id, "succeeded", end_of_day, run_id, None),
    ]
    # Freshness judged as of the night it stands for, not today.
    assert judged["incidents"] == ("fresh", end_of_day, end_of_day)
    # Nothing to tell about: the rerun was clean.
    assert receivers.posts_about(rerun_id) == []


def test_freshness_judged_against_each_cadence_as_of_a_date():
    """Loads (as-of times) by hand; as of 2026-03-31 12:00:
    incidents nightly (1 + 1 days): last 03-30 02:00 -> due 04-01 02:00 -> fresh
    staffing monthly (31 + 10): last 02-10 -> due 03-23 -> late, 49 days without
    benefits_register quarterly (92 + 21): last 01-01 -> due 04-24 -> fresh
    bids on change: loaded once -> fresh, never due
    estates annual: a load on 04-02 is after the as-of date, so not counted -> never (a warning)
    ambsys (optional published statistics): never -> listed, no warning."""
    con = duckdb.connect()
    ensure_schema(con)
    loads = [
        ("incidents", datetime(2026, 3, 29, 2), "loaded"),
        ("incidents", datetime(2026, 3, 30, 2), "loaded"),
        ("incidents", datetime(2026, 3, 31, 2), "skipped"),  # the same bytes again: no news
        ("staffing", datetime(2026, 2, 10, 2), "loaded"),
        ("benefits_register", datetime(2026, 1, 1, 2), "loaded"),
        ("bids", datetime(2016, 1, 1, 2), "loaded"),
        ("estates", datetime(2026, 4, 2, 2), "loaded"),
    ]
    for n, (source, as_of, status) in enumerate(loads):
        con.execute(
            "insert into audit.loaded_files (load_id, source, status, loaded_at, as_of) "
            "values (?, ?, ?, current_timestamp, ?)",
            [f"L{n}", source, status, as_of],
        )
    as_of = datetime(2026, 3, 31, 12)
    verdicts = {v.source: v for v in freshness.check(con, "R1", as_of)}
    assert verdicts["incidents"].status == "fresh"
    assert verdicts["incidents"].due_by == datetime(2026, 4, 1, 2)
    assert verdicts["staffing"].status == "late"
    assert verdicts["staffing"].due_by == datetime(2026, 3, 23, 2)
    assert verdicts["staffing"].note.startswith("nothing new for 49 days (last 2026-02-10")
    assert verdicts["benefits_register"].status == "fresh"
    assert verdicts["benefits_register"].due_by == datetime(2026, 4, 24, 2)
    assert (verdicts["bids"].status, verdicts["bids"].due_by) == ("fresh", None)
    assert verdicts["estates"].status == "never"
    assert verdicts["ambsys"].status == "never"
    warned = [w.split(":")[0] for w in freshness.warnings(list(verdicts.values()))]
    # In contract order; boundaries and finance were never sent either (bid_costs neither, but
    # it is optional: the bids are costed at their award until it comes).
    assert warned == [
        "boundaries never",
        "staffing late",
        "estates never",
        "finance never",
    ]
    rows = con.execute(
        "select count(*), count(distinct source), min(checked_at), max(checked_at) "
        "from audit.source_freshness where run_id = 'R1'"
    ).fetchone()
    assert rows == (14, 14, as_of, as_of)
    # Judged again a week later, the nightly extract is late too: it has gone late since R1, so
    # it is worth a notice; staffing was late already (no notice every night it stays late).
    before = freshness.previous(con, "R2")
    later = freshness.check(con, "R2", datetime(2026, 4, 7))
    assert before["staffing"] == "late"
    assert {v.source: v.status for v in later}["incidents"] == "late"
    (gone,) = freshness.gone_late(later, before)
    # 03-30 02:00 to 04-07 00:00 is 7 days and 22 hours: whole days are counted.
    assert gone.startswith("incidents has gone late: nothing new for 7 days (last 2026-03-30")


def test_a_notice_that_cannot_be_delivered_is_recorded_and_the_load_goes_on(tmp_path):
    """Nothing listens on either port: deliver says so for each channel and does not raise."""
    settings = Settings(
        home=tmp_path,
        notify_webhook=f"http://127.0.0.1:{_free_port()}/hook",
        smtp_host="127.0.0.1",
        smtp_port=_free_port(),
        smtp_to=("ops@example.org",),
    )
    record = RunRecord(run_id="R9", started_at="2026-03-02T02:00:00", rows_quarantined=150)
    record.status = record.outcome()
    record.alerts = notify.alerts(record, [], settings)
    # Rows set aside make the night "succeeded with refusals", and that is always told.
    assert record.alerts == ["150 row(s) set aside in quarantine"]
    subject, text = notify.message(record, settings, "summary")
    assert subject == "Bluelight run R9 succeeded with refusals: the rest published"
    outcome = notify.deliver(settings, subject, text, tasks=False)
    assert outcome.startswith("webhook failed: URLError")
    assert "; email failed: ConnectionRefusedError" in outcome
    clean = RunRecord(run_id="R10", started_at="2026-03-03T02:00:00", rows_loaded=5)
    clean.status = clean.outcome()
    assert (clean.status, notify.alerts(clean, [], settings)) == ("succeeded", [])


def test_backfill_plans_dated_folders_oldest_first_within_the_range(tmp_path, capsys):
    for day in ("2026-03-03", "2026-03-01", "2026-03-02"):
        (tmp_path / "archive" / day / "incidents").mkdir(parents=True)
    archive = tmp_path / "archive"
    plan = backfill.plan(archive, since="2026-03-02")
    assert [(b.folder.name, b.as_of) for b in plan] == [
        ("2026-03-02", "2026-03-02"),
        ("2026-03-03", "2026-03-03"),
    ]
    with pytest.raises(backfill.BackfillError, match="pick a range with --since/--until"):
        backfill.plan(archive, as_of="2026-03-01")
    flat = archive / "2026-03-01"
    assert backfill.plan(flat, as_of="2026-03-01") == [backfill.Batch(flat, "2026-03-01")]
    with pytest.raises(backfill.BackfillError, match="--as-of takes a date as YYYY-MM-DD"):
        backfill.plan(flat, as_of="1 March")
    assert cli.main(["run", "--since", "2026-03-02"]) == 2  # a range needs dated folders
    assert cli.main(["run", "--as-of", "2026-02-30"]) == 2  # no such day: refused before a run
    # A backfill into an inbox with files waiting would load them as of the wrong date.
    (tmp_path / "inbox" / "bids").mkdir(parents=True)
    (tmp_path / "inbox" / "bids" / "tonight.csv").write_text("bid_id\n")
    with pytest.raises(backfill.BackfillError, match="the inbox already holds 1 file"):
        backfill.stage(flat, tmp_path / "inbox")
    assert "--as-of takes a date as YYYY-MM-DD, not '2026-02-30'" in capsys.readouterr().err


def test_a_file_read_is_retried_when_the_share_drops_it_not_when_the_data_is_wrong():
    from prefect.states import Failed

    from flows.schedule.nightly import ingest_file, read_failed

    assert ingest_file.retries == 2 and ingest_file.retry_condition_fn is read_failed
    assert read_failed(ingest_file, None, Failed(data=OSError("share went away")))
    assert not read_failed(ingest_file, None, Failed(data=ValueError("bad bytes in row 9")))
