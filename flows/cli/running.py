"""The verbs that run the product: `demo`, `run` (nightly, backfill, rerun), `serve` (the nightly
deployment on a Prefect server) and `dashboard` (on loopback, or beyond it with sign-in)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from flows.settings import PROJECT_ROOT, Settings
from flows.warehouse import backend, runlog

DASHBOARD_APP = PROJECT_ROOT / "dashboard" / "app.py"


def demo(args: argparse.Namespace, settings: Settings) -> int:
    from flows.demo.data import write_demo_inbox

    print(f"Writing the demo inbox to {settings.inbox} (seed {args.seed}, scale {args.scale}) ...")
    counts = write_demo_inbox(settings.inbox, seed=args.seed, scale=args.scale)
    print("  " + ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    # The run gets a process of its own, so Prefect's temporary server ends with it and is not
    # left running beside the dashboard.
    status = subprocess.call([sys.executable, "-m", "flows.cli", "run"])
    published = status in (runlog.OUTCOMES[runlog.SUCCEEDED], runlog.OUTCOMES[runlog.WITH_REFUSALS])
    if published and not args.no_dashboard:
        return dashboard(args, settings)
    return status


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the night (or each night of a backfill); the exit status is the worst outcome's
    (runlog.OUTCOMES: 0 succeeded, 3 succeeded with refusals, 1 failed; 2 for a wrong use)."""
    from flows.schedule import backfill

    try:
        batches = _batches(args, settings)
        outcomes = []
        for n, batch in enumerate(batches):
            if batch.folder is not None:
                copied = backfill.stage(batch.folder, settings.inbox)
                print(
                    f"{batch.folder}: {copied} file(s) into the inbox, as of {batch.as_of or 'now'}"
                )
            outcome = _night(settings, batch, args.full_refresh and n == 0)
            outcomes.append(outcome)
            if outcome == runlog.FAILED:
                _stopped(args, settings, batches, n)
                break
    except backfill.BackfillError as error:
        print(error, file=sys.stderr)
        return 2
    worst = max(outcomes, key=runlog.OUTCOMES.get)
    if worst == runlog.WITH_REFUSALS:
        print(
            f"Published, with refusals: refused files are in {settings.rejected} with a "
            ".reason.txt each, rows set aside in audit.quarantine (the summary above names them).",
            file=sys.stderr,
        )
    elif worst == runlog.SUCCEEDED:
        print(f"Published: {backend.where(settings)}")
    return runlog.OUTCOMES[worst]


def _batches(args: argparse.Namespace, settings: Settings) -> list:
    """The nights to run: one now, one as of a date, a failed run again, or a backfill's days."""
    from flows.schedule import backfill

    if args.rerun and (args.from_dir or args.as_of):
        raise backfill.BackfillError("--rerun runs as of the failed run's time: no --from/--as-of")
    if (args.since or args.until) and not args.from_dir:
        raise backfill.BackfillError("--since/--until pick dated folders of --from DIR")
    if args.rerun:
        failed = backfill.failed_run(settings.run_log, args.rerun)
        print(
            f"Rerunning {args.rerun} as of {failed.get('as_of') or 'now'}; it failed with: "
            f"{failed.get('error')}"
        )
        return [backfill.Batch(None, failed.get("as_of"), args.rerun)]
    if args.from_dir:
        return backfill.plan(args.from_dir, args.as_of, args.since, args.until)
    return [backfill.Batch(None, args.as_of and backfill.parse_date(args.as_of, "--as-of"))]


def _night(settings: Settings, batch, full_refresh: bool) -> str:
    """Run one night; its outcome (runlog.OUTCOMES)."""
    from flows.schedule import starting

    try:
        state = starting.run_night(
            settings, as_of=batch.as_of, rerun_of=batch.rerun_of, full_refresh=full_refresh
        )
    except starting.ServerDidNotStart as error:
        run_id = starting.record_failed_start(settings, error)
        print(f"Run {run_id}: failed before it started: {error}", file=sys.stderr)
        return runlog.FAILED
    if state.is_failed():
        return runlog.FAILED
    result = state.result()
    if result["record"]["published"] is False:
        print(f"Nothing new: the published warehouse stays as it was: {backend.where(settings)}")
    return result["status"]


def _stopped(args: argparse.Namespace, settings: Settings, batches: list, n: int) -> None:
    print(
        f"The run failed; the published warehouse is unchanged: {backend.where(settings)}. Its "
        "files stay in the inbox: put the cause right, then `bluelight run --rerun RUN_ID` (the "
        "run id is in the summary above).",
        file=sys.stderr,
    )
    if n + 1 < len(batches):
        print(
            f"Stopped before {batches[n + 1].as_of}: after the rerun, go on with "
            f"`bluelight run --from {args.from_dir} --since {batches[n + 1].as_of}`.",
            file=sys.stderr,
        )


def serve(args: argparse.Namespace, settings: Settings) -> int:
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


def dashboard(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the dashboard on `--host` (loopback unless sign-in is configured); exit status 2
    when the host is refused, 1 with no published warehouse."""
    from flows.security import signin

    host = getattr(args, "host", signin.LOOPBACK)  # `demo` serves on loopback
    refusal = signin.serving_refusal(settings, host)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    from flows.warehouse import backend

    if not backend.has_published(settings):
        print(
            f"No published warehouse at {backend.where(settings)}: run `bluelight demo` or "
            "`bluelight run` first.",
            file=sys.stderr,
        )
        return 1
    os.environ["BLUELIGHT_HOME"] = str(settings.home)
    if signin.configured(settings):
        os.environ[signin.REQUIRED_FLAG] = "1"
    command = dashboard_command(settings, host)
    address = signin.dashboard_address(host, settings.dashboard_port, signin.tls(settings))
    print(f"Dashboard on {address} (Ctrl+C to stop)", flush=True)
    os.execv(sys.executable, command)  # Streamlit takes over this process: one to stop, not two


def dashboard_command(settings: Settings, host: str, app: Path = DASHBOARD_APP) -> list[str]:
    """The Streamlit command serving `app` on `host`; with sign-in configured, Streamlit reads
    the `[auth]` secrets written for it, and no other secrets file."""
    from flows.security import signin

    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(settings.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" to a cloud: nothing leaves the machine
    ]
    if signin.tls(settings):
        command += ["--server.sslCertFile", str(settings.tls_cert_file)]
        command += ["--server.sslKeyFile", str(settings.tls_key_file)]
    if signin.configured(settings):
        command += ["--secrets.files", str(signin.write_streamlit_secrets(settings, host))]
        command += ["--client.showErrorDetails", "type"]  # no tracebacks, SQL or paths to users
    return command
