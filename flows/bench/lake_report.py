"""The result of `bluelight bench --backend ducklake` (flows/bench/lake_bench.py): the same tier's
runs on the file and on the lake, and the Markdown that sets them side by side: each stage's
seconds on both and their ratio (lake / file) in the full run and the two nights on top, the whole
run's, peak memory, and the warehouse's size against the lake's Parquet. Its section of
docs/performance.md is the tier's, between the DuckLake markers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows.bench.report import STARTUP, Report, machine

BEGIN, END = "<!-- bench results on DuckLake: begin -->", "<!-- bench results on DuckLake: end -->"
WHOLE = "whole run"


@dataclass
class LakeReport:
    tier: str
    scale: float
    years: int | None = None
    rows: int = 0
    commit: str = ""
    generate_s: float = 0.0
    disk: str = ""
    catalog: str = ""  # what the catalog was, for the heading
    file: Report = field(default_factory=lambda: Report("", 0.0))
    lake: Report = field(default_factory=lambda: Report("", 0.0))
    lake_disk_mb: float = 0.0  # every file under the data path after the nights on top
    # The machine's 1-minute load average after each backend's runs: on a shared machine the
    # ratios are only as good as the two sides' load was alike.
    load: dict = field(default_factory=dict)


def _seconds(report: Report) -> list[dict[str, float]]:
    """The full run's and each night's seconds by stage, with the start-up and hand-over (the
    time outside the stages) and the whole run."""
    runs = [(report.pipeline, report.stages), *((m, s) for m, s, _ in report.nights)]
    return [
        {**stages, STARTUP: measured.seconds - sum(stages.values()), WHOLE: measured.seconds}
        for measured, stages in runs
    ]


def ratio(lake: float | None, file: float | None) -> str:
    if lake is None or file is None or file < 0.05:
        return ""
    return f"{lake / file:.2f}x"


def _cell(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}"


def _stage_table(report: LakeReport) -> list[str]:
    file, lake = _seconds(report.file), _seconds(report.lake)
    names = list(dict.fromkeys([*file[0], *lake[0]]))
    names.remove(WHOLE)
    runs = range(min(len(file), len(lake)))
    which = ["", "night 1 ", "night 2 "]
    head = " | ".join(f"{which[i]}file s | {which[i]}lake s | lake / file" for i in runs)
    lines = [f"| stage | {head} |", "|---|" + "---:|" * (3 * len(runs))]
    for name in [*names, WHOLE]:
        cells = []
        for i in runs:
            ours, theirs = lake[i].get(name), file[i].get(name)
            cells += [_cell(theirs), _cell(ours), ratio(ours, theirs)]
        label = f"**{name}**" if name == WHOLE else name
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _measures(report: LakeReport) -> list[str]:
    file, lake = report.file, report.lake
    peak_f, peak_l = file.pipeline.peak_mb, lake.pipeline.peak_mb
    return [
        "| measure | file | lake | lake / file |",
        "|---|---:|---:|---:|",
        f"| peak memory of the full run (largest process) | {peak_f:,.0f} MB | {peak_l:,.0f} MB "
        f"| {ratio(peak_l, peak_f)} |",
        f"| the warehouse after the full run: the DuckDB file / the Parquet its published "
        f"snapshot reads | {file.warehouse_mb:,.1f} MB | {lake.warehouse_mb:,.1f} MB "
        f"| {ratio(lake.warehouse_mb, file.warehouse_mb)} |",
        "| Parquet under the data path after the nights on top (the files older snapshots read "
        f"too) | | {report.lake_disk_mb:,.1f} MB | |",
        "| the machine's load average (1 minute) after the runs | "
        f"{report.load.get('file', '')} | {report.load.get('ducklake', '')} | |",
    ]


def render(report: LakeReport) -> str:
    years = f", {report.years} year(s) of incidents" if report.years else ""
    disk = f"; the data directories on {report.disk}" if report.disk else ""
    lines = [
        f"### Tier `{report.tier}` on DuckLake (scale {report.scale:g}{years}: "
        f"{report.rows:,} rows)",
        "",
        f"Measured {datetime.now():%Y-%m-%d %H:%M} at commit {report.commit or 'unknown'}, on",
        f"{machine()}{disk}; the catalog: {report.catalog}. The same inbox on each backend: the",
        "full run, then a day's incidents on top twice; lake / file is the lake's time over the",
        "file's.",
        "",
        *_stage_table(report),
        "",
        *_measures(report),
    ]
    return "\n".join(lines) + "\n"
