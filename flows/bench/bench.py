"""`bluelight bench`: a demo tier end to end, measured, beside plain DuckDB doing the same work.

Runs the steps and collects what they measured into a `Report` (flows/bench/report.py renders
it): each stage's wall time, the pipeline's peak memory, the fixed start-up (Python and Prefect,
dbt parse), the warehouse size, the plain-DuckDB baseline in its three parts (read, check, model:
flows/bench/baseline.py), two more nights (a day's incidents each) on top: the first straight
after the full run, which has pushed much of the warehouse out of the page cache, the second with
the warehouse cached; and the dashboard's pages. Every step runs as its own process, as a user
would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from flows.bench.report import TIERS, Measured, Report, commit, disk
from flows.settings import PROJECT_ROOT, Settings
from flows.warehouse import runlog

# Runs a command and reports its largest process's peak memory: a fresh parent per measure, so
# one measure's peak never stands in for another's.
_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _measure(command: list[str], env: dict | None = None, cwd: Path | None = None) -> Measured:
    """Wall time and peak resident memory of the command's largest process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    output, _, peak = done.stderr.rpartition("PEAK_KB ")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{output[-3000:]}")
    return Measured(seconds, int(peak.split()[0]) / 1024, done.stdout + output)


def _python(code: str, env: dict | None = None) -> Measured:
    return _measure([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT)


def _baseline(inbox: Path, db: Path) -> tuple[Measured, dict[str, float]]:
    """The plain-DuckDB baseline in its own process (flows/bench/baseline.py): the process
    measured whole, and each part's seconds as it timed them."""
    measured = _measure(
        [sys.executable, "-m", "flows.bench.baseline", str(inbox), str(db)], cwd=PROJECT_ROOT
    )
    db.unlink()
    # Its stdout's last line; stderr (any warnings) follows stdout in the output.
    line = next(line for line in reversed(measured.output.splitlines()) if line.startswith("{"))
    return measured, json.loads(line)


def _startup(home: Path) -> dict:
    """The parts of a run's fixed cost, each alone in its own process: Python imports, Prefect
    starting a flow (a temporary server when none is configured), and dbt parsing the project.
    A run overlaps some of them (flows/schedule/nightly.py `_warm_up`); `_empty_night` measures
    the whole."""
    env = {"BLUELIGHT_HOME": str(home), **Settings(home=home).to_dbt_env()}
    imports = _python("import flows.schedule.nightly", env)
    empty_flow = "from prefect import flow\n@flow\ndef empty():\n    return 1\nempty()"
    prefect = _python(empty_flow, env)
    with _prefect_server(home) as url:
        with_server = _python(empty_flow, {**env, "PREFECT_API_URL": url})
    project = PROJECT_ROOT / "dbt_project"
    parse_args = (
        f"from dbt.cli.main import dbtRunner; r = dbtRunner().invoke(['parse', '--project-dir', "
        f"'{project}', '--profiles-dir', '{project}', '--target-path', '{home}/startup_target', "
        f"'--log-path', '{home}/startup_logs', '--quiet']); assert r.success"
    )
    full = _python(parse_args, env)
    partial = _python(parse_args, env)  # the project unchanged: dbt's partial parse
    return {
        "imports": imports.seconds,
        "Prefect": prefect.seconds,
        "Prefect with a server": with_server.seconds,
        "dbt parse": full.seconds,
        "dbt parse again": partial.seconds,
    }


@contextlib.contextmanager
def _prefect_server(home: Path):
    """A Prefect server on loopback, as under `bluelight serve`; yields its API address (the
    server's own start-up is not counted: it runs all the time)."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    (home / "prefect").mkdir(parents=True, exist_ok=True)  # its database goes there
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env={**os.environ, "PREFECT_HOME": str(home / "prefect")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Prefect server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _empty_night(home: Path) -> dict:
    """`bluelight run` with nothing to load, without and with a Prefect server running. Its
    fixed start-up is what every run pays whatever the data: the time outside the stages
    (imports, Prefect) plus dbt's stage (parse, comparing the project; nothing to build). The
    other stages (copying the warehouse, the checks on the marts, publishing) grow with the
    warehouse, so they are reported apart."""
    measured = {}
    without, record = _run(home)
    with _prefect_server(home / "startup") as url:
        served, served_record = _run(home, {"PREFECT_API_URL": url})
    for name, run, stages in (
        ("temporary server", without, record["stage_seconds"]),
        ("a server already running", served, served_record["stage_seconds"]),
    ):
        dbt = stages.get("dbt_build", 0.0)
        outside = run.seconds - sum(stages.values())
        measured[name] = (outside + dbt, dbt, sum(stages.values()) - dbt)
    return measured


def _one_more_day(inbox: Path, scale: float, seed: int, day: int = 1) -> int:
    """A night's incidents: day `day` after the demo's last year, for every county and service."""
    import numpy as np
    import pandas as pd

    from flows.demo import incidents, world

    rng = np.random.default_rng(seed + 1)
    fy = world.LAST_FY + 1
    date = f"{fy}-04-{day:02d}"
    folder = inbox / "incidents"
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for county in world.COUNTIES:
        for service in ("fire", "ambulance", "police"):
            frame = incidents.incident_rows(rng, county, service, fy, scale)
            frames.append(frame[frame["call_time"].str.startswith(date)])
    rows = pd.concat(frames)
    rows.to_csv(folder / f"incidents_{date}.csv", index=False, lineterminator="\n")
    return len(rows)


def _run(home: Path, env: dict | None = None) -> tuple[Measured, dict]:
    measured = _measure(
        [sys.executable, "-m", "flows.cli", "run"],
        env={"BLUELIGHT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING", **(env or {})},
        cwd=PROJECT_ROOT,
    )
    record = json.loads(Settings(home=home).run_log.read_text().splitlines()[-1])
    if record["status"] not in runlog.PUBLISHED_OUTCOMES:
        raise RuntimeError(f"the run failed: {record['error']}")
    return measured, record


def run_bench(tier: str, home: Path, seed: int = 2014, progress=print) -> Report:
    from flows.demo.data import write_demo_inbox

    scale, years = TIERS[tier]
    report = Report(tier, scale, years, commit=commit())
    if home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home)
    progress(f"[1/7] writing the {tier} tier's inbox (scale {scale:g}) to {settings.inbox}")
    start = time.perf_counter()
    counts = write_demo_inbox(
        settings.inbox, seed=seed, scale=scale, incident_years=years, progress=lambda *_: None
    )
    report.generate_s = time.perf_counter() - start
    report.rows = sum(counts.values())
    report.disk = disk(home)
    report.incidents = counts["incidents"]

    progress("[2/7] plain DuckDB baseline on the same files: read, check, model")
    report.baseline, report.baseline_parts = _baseline(settings.inbox, home / "baseline.duckdb")

    progress("[3/7] fixed start-up: imports, Prefect, dbt parse")
    report.startup = _startup(home / "startup")

    progress(f"[4/7] the nightly flow on {report.rows:,} rows (bluelight run)")
    report.pipeline, record = _run(home)
    report.stages = record["stage_seconds"]
    report.warehouse_mb = settings.published_db.stat().st_size / 1e6

    for day, which in ((1, "one more night"), (2, "the next night")):
        progress(f"[5/7] {which}: a day's incidents on top")
        rows = _one_more_day(settings.inbox, scale, seed, day)
        measured, record = _run(home)
        report.nights.append((measured, record["stage_seconds"], rows))

    progress("[6/7] a night with nothing to load, without and with a Prefect server")
    report.empty_night = _empty_night(home)

    progress("[7/7] dashboard queries on the published warehouse")
    report.dashboard = _dashboard_timings(settings.published_db)
    return report


def _dashboard_timings(db: Path) -> dict:
    """Each dashboard page rendered with its queries' cache cleared (dashboard/bench.py)."""
    from dashboard import bench as dashboard_bench

    return dashboard_bench.measure(db, repeats=10)
