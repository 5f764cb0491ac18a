"""The demo inbox: every source's files for the demo counties (world.py), written in a fixed order
from one generator, so the same seed and scale write the same files byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flows.demo.agencies import estate_rows, finance_rows, staffing_rows
from flows.demo.bids import BIDS, benefit_rows, cost_rows
from flows.demo.files import write_csv, write_xlsx
from flows.demo.incidents import incident_rows
from flows.demo.world import (
    AMBULANCE_TRUST,
    COUNTIES,
    DISTRICTS,
    FIRST_FY,
    LAST_FY,
    financial_year_label,
)


def write_demo_inbox(
    inbox: Path,
    seed: int = 2014,
    scale: float = 1.0,
    progress=print,
    incident_years: int | None = None,
) -> dict:
    """Write the demo files into `inbox/<source>/`; returns counts of files and rows written.

    `scale` multiplies the incidents a year; `incident_years` keeps only the last so many
    financial years of incidents (the benchmark's national tiers). One file is in memory at a
    time. The sources are written in a fixed order, each drawing from the one generator, so the
    same seed writes the same files byte for byte."""
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    counts["boundaries"] = _write_boundaries(inbox)
    first_fy = LAST_FY + 1 - incident_years if incident_years else FIRST_FY
    counts["incidents"] = _write_incidents(inbox, rng, first_fy, scale, progress)
    organisations = [
        (COUNTIES[c][s][1], s, 1.0 if c == "Northmoor" else 0.85)
        for c in COUNTIES
        for s in ("police", "fire")
    ]
    organisations.append((AMBULANCE_TRUST[1], "ambulance", 1.0))
    counts["staffing"] = _write_staffing(inbox, rng, organisations)
    counts["estates"], police_baseline = _write_estates(inbox, rng)
    counts["finance"] = _write_finance(inbox, rng, organisations)
    write_csv(_folder(inbox, "bids") / "pif_bids.csv", _columns("bids"), [list(b) for b in BIDS])
    counts["bids"] = len(BIDS)
    costs = cost_rows()
    write_csv(_folder(inbox, "bid_costs") / "pif_bid_costs.csv", _columns("bid_costs"), costs)
    counts["bid_costs"] = len(costs)
    counts["benefits_register"] = 0
    for bid_id, rows in benefit_rows(round(police_baseline, -3)).items():
        write_xlsx(
            _folder(inbox, "benefits_register") / f"{bid_id}_benefits.xlsx",
            _columns("benefits_register"),
            rows,
        )
        counts["benefits_register"] += len(rows)
    return counts


def _folder(inbox: Path, source: str) -> Path:
    path = inbox / source
    path.mkdir(parents=True, exist_ok=True)
    return path


def _columns(source: str) -> list[str]:
    from flows.sources.contracts import SOURCES

    return SOURCES[source].column_names


def _write_boundaries(inbox: Path) -> int:
    write_csv(
        _folder(inbox, "boundaries") / "district_lookup.csv",
        _columns("boundaries"),
        [
            [
                d.code,
                d.name,
                d.county,
                "rural" if d.rural else "urban",
                d.population,
                *COUNTIES[d.county]["police"],
                *COUNTIES[d.county]["fire"],
                *AMBULANCE_TRUST,
            ]
            for d in DISTRICTS
        ],
    )
    return len(DISTRICTS)


def _write_incidents(
    inbox: Path, rng: np.random.Generator, first_fy: int, scale: float, progress
) -> int:
    written = 0
    for county, info in COUNTIES.items():
        for service in ("fire", "ambulance", "police"):
            for fy in range(first_fy, LAST_FY + 1):
                frame = incident_rows(rng, county, service, fy, scale)
                name = f"{info['slug']}_{service}_{financial_year_label(fy)}.csv"
                frame.to_csv(_folder(inbox, "incidents") / name, index=False, lineterminator="\n")
                written += len(frame)
        progress(f"  demo incidents for {county}: done")
    return written


def _write_staffing(inbox: Path, rng: np.random.Generator, organisations: list) -> int:
    return _write_per_organisation(inbox, "staffing", staffing_rows, rng, organisations)


def _write_estates(inbox: Path, rng: np.random.Generator) -> tuple[int, float]:
    """The estate returns; the rows written, and Northmoor police's 2014-15 running cost (the
    baseline of the estate benefits)."""
    written = 0
    police_baseline = 0.0
    for county in COUNTIES:
        for service, count in (
            ("police", 18 if county == "Northmoor" else 16),
            ("fire", 14 if county == "Northmoor" else 12),
        ):
            organisation = COUNTIES[county][service][1]
            rows = estate_rows(rng, organisation, county, service, count)
            if organisation == "Northmoor Constabulary":
                police_baseline = sum(r[8] for r in rows if r[1] == "2014-15")
            slug = organisation.lower().replace(" ", "_")
            path = _folder(inbox, "estates") / f"{slug}_estate_return.csv"
            write_csv(path, _columns("estates"), rows)
            written += len(rows)
    return written, police_baseline


def _write_finance(inbox: Path, rng: np.random.Generator, organisations: list) -> int:
    return _write_per_organisation(inbox, "finance", finance_rows, rng, organisations)


def _write_per_organisation(inbox: Path, source: str, rows_for, rng, organisations: list) -> int:
    """A file per organisation: staffing as XLSX (as HR systems export), finance as CSV."""
    written = 0
    for organisation, service, size in organisations:
        rows = rows_for(rng, organisation, service, size)
        slug = organisation.lower().replace(" ", "_")
        if source == "staffing":
            write_xlsx(_folder(inbox, source) / f"{slug}.xlsx", _columns(source), rows)
        else:
            write_csv(_folder(inbox, source) / f"{slug}_outturn.csv", _columns(source), rows)
        written += len(rows)
    return written
