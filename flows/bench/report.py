"""The benchmark's results: the tiers, what one run measured (`Report`), the Markdown
`bluelight bench` prints (one screen: each stage's time, share of the run, rows a second and ratio
to its part of the plain-DuckDB baseline, then the other measures compactly), the code and machine
it was measured on, and its tier's section of docs/performance.md (between the markers; the prose
around them is kept, and a tier's section is replaced, not added to: current results, no
history)."""

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from flows.settings import PROJECT_ROOT

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

# The part of the plain-DuckDB baseline (flows/bench/baseline.py) whose work each stage does:
# ingest reads the files into tables, the gate (both its checks) checks them against their
# contracts, dbt builds the marts. The other stages have no counterpart, as the baseline keeps no
# warehouse: prepare copies it for the build, fetch downloads, freshness reads the audit, publish
# renames; nor has the start-up and hand-over (Python, Prefect, outside the stages).
PARTS = {"read": ("ingest",), "check": ("check_loaded", "check_marts"), "model": ("dbt_build",)}
STARTUP = "start-up and hand-over"


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
    commit: str = ""  # the code measured: `commit()`
    baseline: Measured | None = None  # the baseline's process, whole
    baseline_parts: dict = field(default_factory=dict)  # read, check, model: seconds each
    pipeline: Measured | None = None
    stages: dict = field(default_factory=dict)
    startup: dict = field(default_factory=dict)
    warehouse_mb: float = 0.0
    # One more night, then the next: (measure, stage seconds, incidents) each.
    nights: list[tuple[Measured, dict, int]] = field(default_factory=list)
    empty_night: dict = field(default_factory=dict)
    disk: str = ""
    dashboard: dict = field(default_factory=dict)


def render(report: Report) -> str:
    """The report as Markdown, about 40 lines: where it ran, the stage table, the other measures,
    the dashboard's pages."""
    lines = [*_heading(report), "", *_stage_table(report), "", *_measures(report)]
    if report.dashboard:
        lines += ["", *_pages(report.dashboard)]
    return "\n".join(lines) + "\n"


def _heading(report: Report) -> list[str]:
    years = f", {report.years} year(s) of incidents" if report.years else ""
    disk = f"; the data directory on {report.disk}" if report.disk else ""
    return [
        f"### Tier `{report.tier}` (scale {report.scale:g}{years}: {report.rows:,} rows, "
        f"{report.incidents:,} of them incidents)",
        "",
        f"Measured {datetime.now():%Y-%m-%d %H:%M} at commit {report.commit or 'unknown'}, on",
        f"{machine()}{disk}.",
    ]


def _shares(report: Report) -> dict[str, float]:
    """Each stage's seconds, and the start-up and hand-over's (the run's time outside the
    stages): together the whole run."""
    outside = report.pipeline.seconds - sum(report.stages.values())
    return {**report.stages, STARTUP: outside}


def _stage_table(report: Report) -> list[str]:
    """Per stage: wall time, share of the run (the biggest marked), rows a second, the ratio to
    its part of the baseline, and the same stage in the two nights on top; then the whole run."""
    run = report.pipeline.seconds
    rows = _shares(report)
    biggest = max(rows, key=rows.get)
    lines = [
        "| stage | wall s | share | rows/s | plain DuckDB part | its s | ratio "
        "| night 1 s | night 2 s |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for stage, seconds in rows.items():
        name, share = stage, f"{100 * seconds / run:.1f}%"
        if stage == biggest:
            name, share = f"**{stage}**", f"**{share}** ◀"
        rate = _rate(report.rows, seconds) if stage not in ("fetch", STARTUP) else ""
        part, its, ratio = _versus(report, stage)
        nights = " | ".join(_night_seconds(report.nights, i, stage) for i in range(2))
        lines.append(
            f"| {name} | {seconds:.1f} | {share} | {rate} | {part} | {its} | {ratio} | {nights} |"
        )
    return lines + _totals(report)


def _totals(report: Report) -> list[str]:
    """The whole run, and the run without its start-up, against the whole baseline."""
    run, stages = report.pipeline.seconds, sum(report.stages.values())
    baseline = sum(report.baseline_parts.values())
    whole = " + ".join(report.baseline_parts) or "none measured"
    cells = [f"{night.seconds:.1f}" for night, _, _ in report.nights[:2]]
    nights = " | ".join(cells + [""] * (2 - len(cells)))  # a cell for each night not measured
    ratio = _times(run, baseline)
    return [
        f"| **whole run** | **{run:.1f}** | 100% | {_rate(report.rows, run)} | {whole} "
        f"| {baseline:.2f} | {f'**{ratio}**' if ratio else ''} | {nights} |",
        f"| without start-up | {stages:.1f} | {100 * stages / run:.1f}% "
        f"| {_rate(report.rows, stages)} | {whole} | {baseline:.2f} | {_times(stages, baseline)} "
        "| | |",
    ]


def _versus(report: Report, stage: str) -> tuple[str, str, str]:
    """The stage's part of the baseline, the part's seconds, and the ratio of the stages doing
    that part's work to it ("check, with check_marts": the gate's two stages against one part)."""
    part = next((part for part, stages in PARTS.items() if stage in stages), None)
    if part is None or part not in report.baseline_parts:
        return "", "", ""
    others = [other for other in PARTS[part] if other != stage]
    label = f"{part}, with {' and '.join(others)}" if others else part
    ours = sum(report.stages.get(s, 0.0) for s in PARTS[part])
    theirs = report.baseline_parts[part]
    return label, f"{theirs:.2f}", _times(ours, theirs)


def _times(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.1f}x" if theirs > 0 else ""


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0.05 else ""


def _night_seconds(nights: list, which: int, stage: str) -> str:
    """The stage's seconds in a night on top ("" when that night was not measured)."""
    if which >= len(nights):
        return ""
    measured, stages, _ = nights[which]
    if stage == STARTUP:
        return f"{measured.seconds - sum(stages.values()):.1f}"
    return f"{stages[stage]:.1f}" if stage in stages else ""


def _measures(report: Report) -> list[str]:
    """Everything else, a line each: the baseline's process, the run's memory and size, the
    nights' share, the fixed start-up and its parts, the slowest dashboard query."""
    lines = [
        "| measure | value |",
        "|---|---|",
        *_baseline_process(report),
        f"| the run | peak memory {report.pipeline.peak_mb:,.0f} MB (largest process), published "
        f"warehouse {report.warehouse_mb:,.1f} MB; inbox written in {report.generate_s:.1f} s |",
    ]
    lines += _nights(report)
    for name, (fixed_s, dbt_s, rest_s) in report.empty_night.items():
        lines.append(
            f"| fixed start-up, nothing to load, {name} | **{fixed_s:.1f} s** (dbt {dbt_s:.1f} s "
            f"of it; not counted: the other stages' {rest_s:.1f} s) |"
        )
    if report.startup:
        parts = ", ".join(f"{name} {s:.1f} s" for name, s in report.startup.items())
        lines.append(f"| start-up parts, each alone | {parts} |")
    return lines + _slowest_query(report.dashboard)


def _baseline_process(report: Report) -> list[str]:
    """The baseline's process whole: its parts' seconds (in the stage table) plus Python's
    start-up and DuckDB's import, and its peak memory."""
    if report.baseline is None:
        return []
    return [
        f"| plain DuckDB baseline, its process | {report.baseline.seconds:.1f} s with Python's "
        f"start-up, peak memory {report.baseline.peak_mb:,.0f} MB |"
    ]


def _nights(report: Report) -> list[str]:
    """Each night on top as a share of the full run (its stages are in the stage table)."""
    which = ("straight after the full run", "the warehouse cached")
    return [
        f"| night {i} on top ({label}), {incidents:,} incidents | "
        f"{100 * night.seconds / report.pipeline.seconds:.1f}% of the full run |"
        for i, (label, (night, _, incidents)) in enumerate(
            zip(which, report.nights, strict=False), start=1
        )
    ]


def _slowest_query(dashboard: dict) -> list[str]:
    if not dashboard:
        return []
    from dashboard import bench as dashboard_bench

    query, (_, median, p95) = next(iter(dashboard_bench.query_stats(dashboard).items()))
    return [
        f"| dashboard's slowest query, cold cache: median / 95th percentile | `{query}` "
        f"{median * 1000:.0f} / {p95 * 1000:.0f} ms |"
    ]


def _pages(dashboard: dict) -> list[str]:
    """Each dashboard page rendered with a cold cache: the whole render, then its queries."""
    lines = [
        "| dashboard page, cold cache | median ms | 95th pct ms | its queries: median ms "
        "| 95th pct ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for page, t in dashboard.items():
        lines.append(
            f"| {page} | {t['cold_median'] * 1000:.0f} | {t['cold_p95'] * 1000:.0f} "
            f"| {t['queries_median'] * 1000:.0f} | {t['queries_p95'] * 1000:.0f} |"
        )
    return lines


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit() -> str:
    """The code measured: git's short commit hash, with "+ uncommitted changes" when the work
    tree differs from it (the figures are then of code no commit holds)."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = bool(_git("status", "--porcelain"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} + uncommitted changes" if changed else head


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


def write_doc(report, text: str, begin: str = BEGIN, end: str = END) -> Path:
    """Replace the report's tier's section between the markers (`begin`, `end`: the file
    backend's, or flows/bench/lake_report.py's) of docs/performance.md; the prose around them is
    kept."""
    doc = PERFORMANCE_DOC.read_text()
    before, rest = doc.split(begin + "\n")
    inside, after = rest.split(end)
    sections = {
        part.split("`")[1]: "### " + part
        for part in inside.split("### ")
        if part.startswith("Tier `")
    }
    sections[report.tier] = text
    ordered = [sections[t].rstrip() + "\n" for t in TIERS if t in sections]
    PERFORMANCE_DOC.write_text(before + begin + "\n" + "\n".join(ordered) + end + after)
    return PERFORMANCE_DOC


def to_json(report: Report) -> str:
    """The report as JSON, for `bluelight bench --backend ducklake --file-result` to set the
    lake's runs against without running the file's again."""
    return json.dumps(asdict(report), indent=1)


def from_json(text: str) -> Report:
    fields = json.loads(text)
    for name in ("baseline", "pipeline"):
        if fields[name] is not None:
            fields[name] = Measured(**fields[name])
    fields["nights"] = [(Measured(**m), stages, rows) for m, stages, rows in fields["nights"]]
    fields["empty_night"] = {k: tuple(v) for k, v in fields["empty_night"].items()}
    return Report(**fields)
