"""`bluelight bench`: a demo tier end to end, measured, beside plain DuckDB doing the same work.

Prints one table (and writes it to docs/performance.md with the machine it ran on): each stage's
wall time and rows per second, the pipeline's peak memory, the fixed start-up (Python and
Prefect, dbt parse), the warehouse size, a plain-DuckDB baseline (the same incident files read and
the headline response-time mart computed in one SQL script), the quality gate's share, and two
more nights (a day's incidents each) on top: the first straight after the full run, which has
pushed much of the warehouse out of the page cache, the second with the warehouse cached. Every
step runs as its own process, as a user would.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flows.settings import PROJECT_ROOT, Settings

# Tiers: (multiple of the demo county pair's yearly incident volume, financial years of incidents;
# None for all 14). The demo is 812,000 incidents over 14 years (58,000 a year); a national year
# of England and Wales is about 250 times that. The generator keeps the two counties' geography;
# the tiers scale their volume.
TIERS: dict[str, tuple[float, int | None]] = {
    "county": (1.0, None),  # the demo: 812,000 incidents
    "region": (10.0, None),  # 8.1 million
    "national-year": (250.0, 1),  # 14.5 million: one national year
    "national": (250.0, 10),  # 145 million: ten national years
}
PERFORMANCE_DOC = PROJECT_ROOT / "docs" / "performance.md"

# The baseline: plain DuckDB reads the same incident files and computes the headline mart
# (incidents, mean, median and 90th percentile response per service, county and month).
BASELINE_SQL = """
create table boundaries as select * from read_csv('{inbox}/boundaries/*.csv', all_varchar=true);
create table incidents as
    select * from read_csv('{inbox}/incidents/*.csv', all_varchar=true, union_by_name=true);
create table response_monthly as
    select i.service, b.county, date_trunc('month', i.call_time::timestamp) as month,
           count(*) as incidents,
           avg(epoch(i.first_arrival_time::timestamp - i.call_time::timestamp)) / 60 as mean_min,
           quantile_cont(epoch(i.first_arrival_time::timestamp - i.call_time::timestamp), 0.5)
               / 60 as median_min,
           quantile_cont(epoch(i.first_arrival_time::timestamp - i.call_time::timestamp), 0.9)
               / 60 as p90_min
    from incidents as i join boundaries as b using (district_code)
    group by all;
"""


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    output: str = ""


@dataclass
class Report:
    tier: str
    scale: float
    years: int | None = None
    rows: int = 0
    incidents: int = 0
    generate_s: float = 0.0
    baseline: Measured | None = None
    pipeline: Measured | None = None
    stages: dict = field(default_factory=dict)
    startup: dict = field(default_factory=dict)
    warehouse_mb: float = 0.0
    # One more night, then the next: (measure, stage seconds, incidents) each.
    nights: list[tuple[Measured, dict, int]] = field(default_factory=list)
    empty_night: dict = field(default_factory=dict)
    disk: str = ""
    dashboard: dict = field(default_factory=dict)


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
        "python imports of the flow": imports.seconds,
        "Prefect flow start (temporary server)": prefect.seconds,
        "Prefect flow start (a server already running)": with_server.seconds,
        "dbt parse, first run": full.seconds,
        "dbt parse, unchanged project": partial.seconds,
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

    from flows.demo import data as demo_data

    rng = np.random.default_rng(seed + 1)
    fy = demo_data.LAST_FY + 1
    date = f"{fy}-04-{day:02d}"
    folder = inbox / "incidents"
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for county in demo_data.COUNTIES:
        for service in ("fire", "ambulance", "police"):
            frame = demo_data._incidents(rng, county, service, fy, scale)
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
    if record["status"] != "succeeded":
        raise RuntimeError(f"the run failed: {record['error']}")
    return measured, record


def run_bench(tier: str, home: Path, seed: int = 2014, progress=print) -> Report:
    from flows.demo.data import write_demo_inbox

    scale, years = TIERS[tier]
    report = Report(tier, scale, years)
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

    progress("[2/7] plain DuckDB baseline on the same files")
    script = BASELINE_SQL.format(inbox=settings.inbox)
    baseline_db = home / "baseline.duckdb"
    report.baseline = _python(
        f"import duckdb; con = duckdb.connect({str(baseline_db)!r}); con.execute({script!r}); "
        "print(con.sql('select count(*) from response_monthly').fetchone()[0])"
    )
    baseline_db.unlink()

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


def render(report: Report) -> str:
    """The report as Markdown tables."""
    rows = report.rows
    pipeline = report.pipeline.seconds
    stage_total = sum(report.stages.values())
    fixed = pipeline - stage_total
    lines = [
        f"### Tier `{report.tier}` (scale {report.scale:g}"
        f"{f', {report.years} year(s) of incidents' if report.years else ''}: {rows:,} rows, "
        f"{report.incidents:,} of them incidents)",
        "",
        f"Measured {datetime.now():%Y-%m-%d %H:%M} on {machine()}; the data directory on "
        f"{report.disk}.",
        "",
        "| stage | wall s | rows/s |",
        "|---|---:|---:|",
    ]
    for stage, seconds in report.stages.items():
        rate = f"{rows / seconds:,.0f}" if seconds > 0.05 and stage != "fetch" else ""
        lines.append(f"| {stage} | {seconds:.1f} | {rate} |")
    lines += [
        f"| start-up and hand-over (Prefect, imports, outside the stages) | {fixed:.1f} | |",
        f"| **whole run (`bluelight run`)** | **{pipeline:.1f}** | {rows / pipeline:,.0f} |",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| generating the inbox (not part of the run) | {report.generate_s:.1f} s |",
        f"| peak memory of the run (largest process) | {report.pipeline.peak_mb:,.0f} MB |",
        f"| published warehouse | {report.warehouse_mb:,.1f} MB |",
        f"| plain DuckDB baseline (read the files, compute the monthly mart) | "
        f"{report.baseline.seconds:.1f} s |",
        f"| whole run / baseline | {pipeline / report.baseline.seconds:.1f}x |",
        f"| run without start-up / baseline | {stage_total / report.baseline.seconds:.1f}x |",
        f"| quality gate (checks on loaded rows + marts) | "
        f"{report.stages.get('check_loaded', 0) + report.stages.get('check_marts', 0):.1f} s |",
    ]
    for name, seconds in report.startup.items():
        lines.append(f"| start-up, alone: {name} | {seconds:.1f} s |")
    for name, (fixed_s, dbt_s, rest_s) in report.empty_night.items():
        lines.append(
            f"| **fixed start-up: a night with nothing to load, {name}** (dbt {dbt_s:.1f} s of "
            f"it; not counted, the other stages' {rest_s:.1f} s: copying the warehouse, checking "
            f"the marts, publishing) | **{fixed_s:.1f} s** |"
        )
    lines += _nights_and_pages(report, pipeline)
    return "\n".join(lines) + "\n"


def _nights_and_pages(report: Report, pipeline: float) -> list[str]:
    """The report's rows for the nights after the full run and for the dashboard's pages."""
    lines: list[str] = []
    for (night, stages, incidents), which in zip(
        report.nights,
        ("one more night, straight after the full run", "the next night"),
        strict=False,
    ):
        lines += [
            f"| {which} ({incidents:,} incidents) | {night.seconds:.1f} s "
            f"({100 * night.seconds / pipeline:.1f}% of the full run) |",
            f"| {which}, by stage | "
            + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
            + " |",
        ]
    for page, timing in report.dashboard.items():
        lines.append(
            f"| dashboard page {page}, cold cache: median / 95th percentile of 10, the render "
            f"(its queries) | {timing['cold_median'] * 1000:.0f} / "
            f"{timing['cold_p95'] * 1000:.0f} ms ({timing['queries_median'] * 1000:.0f} / "
            f"{timing['queries_p95'] * 1000:.0f} ms) |"
        )
    if report.dashboard:
        from dashboard import bench as dashboard_bench

        query, (_, median, p95) = next(iter(dashboard_bench.query_stats(report.dashboard).items()))
        lines.append(
            "| dashboard's slowest query, cold cache: median / 95th percentile | "
            f"`{query}` {median * 1000:.0f} / {p95 * 1000:.0f} ms |"
        )
    return lines


def machine() -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB, Python {platform.python_version()}"


def disk(home: Path) -> str:
    """The data directory's filesystem, and whether it copies by reflink: then each night's copy
    of the warehouse is all but free (flows/warehouse/copying.py)."""
    from flows.warehouse.copying import copy_file

    where, kind = "", "an unknown filesystem"
    inside = f"{home.resolve()}/"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            point, fs = line.split()[1:3]
            if inside.startswith(point.rstrip("/") + "/") and len(point) >= len(where):
                where, kind = point, fs
    except OSError:
        pass
    probe = home / ".reflink-probe"
    with probe.open("wb") as handle:  # on disk and not tiny: some filesystems clone only that
        handle.write(bytes(1 << 16))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        reflinks = copy_file(probe, home / ".reflink-probe-copy")
    finally:
        probe.unlink()
        (home / ".reflink-probe-copy").unlink(missing_ok=True)
    return f"{kind} ({'reflinks' if reflinks else 'no reflinks: copies are byte for byte'})"


BEGIN, END = "<!-- bench results: begin -->", "<!-- bench results: end -->"


def write_doc(report: Report, text: str) -> Path:
    """Replace this tier's section between the markers of docs/performance.md; the prose
    around them is kept."""
    doc = PERFORMANCE_DOC.read_text()
    before, rest = doc.split(BEGIN + "\n")
    inside, after = rest.split(END)
    sections = {
        part.split("`")[1]: "### " + part
        for part in inside.split("### ")
        if part.startswith("Tier `")
    }
    sections[report.tier] = text
    ordered = [sections[t].rstrip() + "\n" for t in TIERS if t in sections]
    PERFORMANCE_DOC.write_text(before + BEGIN + "\n" + "\n".join(ordered) + END + after)
    return PERFORMANCE_DOC
