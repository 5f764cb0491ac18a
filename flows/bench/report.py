"""The benchmark's results: the tiers, what one run measured (`Report`), the Markdown table
`bluelight bench` prints, and its section of docs/performance.md (between the markers; the prose
around them is kept)."""

import os
import platform
from dataclasses import dataclass, field
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
