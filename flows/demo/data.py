"""The demo data set: two neighbouring fictional counties, April 2012 to March 2026.

Northmoor ran three Police Innovation Fund projects; Southvale did not and serves as the comparison.
The generator is deterministic: the same seed and scale write the same files byte for byte.

Every effect the warehouse should find is planted here and written down in `PLANTED`, so tests can
check the warehouse recovers it:

- Joint police and fire control room (bid PIF-2014-NM01), live 2016-01-01: Northmoor fire call
  handling falls by 30 s. From 2016-04-01 a regional call-challenge protocol adds 12 s to call
  handling in *both* counties, so a plain before/after in Northmoor shows only about -18 s.
- Shared estate (bid PIF-2014-NM02), live 2016-04-01: six Northmoor police sites close between
  2016 and 2019 and their teams move into fire stations; their running costs stop and each
  disposal brings a capital receipt.
- Rural co-responding (bid PIF-2016-NM03), live 2017-01-01: firefighters reach cardiac arrests in
  Northmoor's rural districts 150 s sooner than the ambulance would. From 2016-10-01 rising demand
  adds 60 s to cardiac arrest and C1 responses in both counties.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

FIRST_FY = 2012  # financial year 2012-13 (April 2012) ...
LAST_FY = 2025  # ... to 2025-26 (March 2026)

PLANTED = {
    "jcr_go_live": date(2016, 1, 1),
    "jcr_call_handling_change_seconds": -30.0,
    "call_handling_drift_start": date(2016, 4, 1),
    "call_handling_drift_seconds": 12.0,
    "estate_go_live": date(2016, 4, 1),
    "co_responding_go_live": date(2017, 1, 1),
    "co_responding_change_seconds": -150.0,
    "ambulance_drift_start": date(2016, 10, 1),
    "ambulance_drift_seconds": 60.0,
}


@dataclass(frozen=True)
class District:
    code: str
    name: str
    county: str
    rural: bool
    population: int


COUNTIES = {
    "Northmoor": {
        "slug": "northmoor",
        "prefix": "NM",
        "police": ("X23000001", "Northmoor Constabulary"),
        "fire": ("X31000001", "Northmoor Fire and Rescue Service"),
        "centre": (402_000, 512_000),
    },
    "Southvale": {
        "slug": "southvale",
        "prefix": "SV",
        "police": ("X23000002", "Southvale Police"),
        "fire": ("X31000002", "Southvale Fire and Rescue Service"),
        "centre": (398_000, 448_000),
    },
}
AMBULANCE_TRUST = ("XR1", "Western Moors Ambulance Service NHS Trust")

DISTRICTS = (
    District("X07000101", "Harrowmere", "Northmoor", False, 212_000),
    District("X07000102", "Brackenridge", "Northmoor", False, 124_000),
    District("X07000103", "Eastmoor", "Northmoor", True, 96_000),
    District("X07000104", "Ashby Fells", "Northmoor", True, 71_000),
    District("X07000105", "Kelder", "Northmoor", True, 58_000),
    District("X07000201", "Lowbridge", "Southvale", False, 196_000),
    District("X07000202", "Otterham", "Southvale", False, 131_000),
    District("X07000203", "Wyncombe", "Southvale", True, 88_000),
    District("X07000204", "Selbury", "Southvale", True, 74_000),
    District("X07000205", "Ferncliffe", "Southvale", True, 63_000),
)

# Incidents a year per county at scale 1, and the category mix (shares sum to 1).
INCIDENTS_PER_YEAR = {"fire": 6_000, "ambulance": 14_000, "police": 9_000}
CATEGORIES = {
    "fire": {
        "primary_fire": 0.25,
        "secondary_fire": 0.2,
        "rtc": 0.1,
        "false_alarm": 0.35,
        "special_service": 0.1,
    },
    "ambulance": {"cardiac_arrest": 0.04, "C1": 0.08, "C2": 0.55, "C3": 0.25, "C4": 0.08},
    "police": {"emergency": 0.35, "priority": 0.65},
}
# Mean seconds from mobilisation to first arrival, (urban, rural); ambulance and police.
TRAVEL_MEAN = {
    "cardiac_arrest": (360, 600),
    "C1": (360, 600),
    "C2": (1_080, 1_560),
    "C3": (3_300, 4_200),
    "C4": (6_600, 7_800),
    "emergency": (420, 780),
    "priority": (2_400, 3_300),
}


def financial_year_label(fy: int) -> str:
    return f"{fy}-{(fy + 1) % 100:02d}"


def _seconds_since(start: date, times: np.ndarray) -> np.ndarray:
    return times >= np.datetime64(start)


def _incidents(rng: np.random.Generator, county: str, service: str, fy: int, scale: float):
    """One county's incidents for one service and financial year, as a DataFrame."""
    districts = [d for d in DISTRICTS if d.county == county]
    n = max(1, int(round(INCIDENTS_PER_YEAR[service] * scale)))
    weights = np.array([d.population for d in districts], dtype=float)
    which = rng.choice(len(districts), size=n, p=weights / weights.sum())
    rural = np.array([districts[i].rural for i in which])
    cats = CATEGORIES[service]
    category = rng.choice(list(cats), size=n, p=list(cats.values()))

    start = np.datetime64(f"{fy}-04-01T00:00:00")
    span = int((np.datetime64(f"{fy + 1}-04-01T00:00:00") - start) / np.timedelta64(1, "s"))
    call = np.sort(start + rng.integers(0, span, size=n).astype("timedelta64[s]"))
    years_on = (call - np.datetime64("2012-04-01T00:00:00")) / np.timedelta64(365, "D")
    is_northmoor = county == "Northmoor"

    if service == "fire":
        mobilised, mobile, arrival = _fire_times(rng, n, call, rural, years_on, is_northmoor)
    else:
        mobilised, mobile, arrival = _other_times(
            rng, n, service, category, call, rural, is_northmoor
        )

    def text(times):
        return np.char.replace(np.datetime_as_string(times, unit="s"), "T", " ")

    prefix = f"{COUNTIES[county]['prefix']}{service[0].upper()}"
    return pd.DataFrame(
        {
            "incident_id": [f"{prefix}{fy}-{i:06d}" for i in range(1, n + 1)],
            "service": service,
            "incident_category": category,
            "district_code": [districts[i].code for i in which],
            "call_time": text(call),
            "mobilised_time": text(mobilised),
            "mobile_time": text(mobile) if mobile is not None else "",
            "first_arrival_time": text(arrival),
        }
    )


def _fire_times(rng: np.random.Generator, n: int, call, rural, years_on, is_northmoor: bool):
    """Fire incidents' mobilised, mobile and first arrival times: call handling, turnout and
    drive, each drawn in turn."""
    handling = rng.gamma(40.0, 95.0 / 40.0, size=n)
    handling += np.where(
        call >= np.datetime64(PLANTED["call_handling_drift_start"]),
        PLANTED["call_handling_drift_seconds"],
        0.0,
    )
    if is_northmoor:
        handling += np.where(
            call >= np.datetime64(PLANTED["jcr_go_live"]),
            PLANTED["jcr_call_handling_change_seconds"],
            0.0,
        )
    turnout = rng.gamma(12.0, np.where(rural, 200.0, 95.0) / 12.0)
    drive = rng.gamma(6.0, (np.where(rural, 450.0, 290.0) + 3.0 * years_on) / 6.0)
    handling, turnout, drive = (np.maximum(x, 10.0).round() for x in (handling, turnout, drive))
    mobilised = call + handling.astype("timedelta64[s]")
    mobile = mobilised + turnout.astype("timedelta64[s]")
    arrival = mobile + drive.astype("timedelta64[s]")
    return mobilised, mobile, arrival


def _other_times(
    rng: np.random.Generator, n: int, service: str, category, call, rural, is_northmoor: bool
):
    """Ambulance and police incidents' mobilised and first arrival times (no mobile time)."""
    handling = np.maximum(rng.gamma(20.0, 75.0 / 20.0, size=n), 10.0).round()
    urban_mean = np.array([TRAVEL_MEAN[c][0] for c in category], dtype=float)
    rural_mean = np.array([TRAVEL_MEAN[c][1] for c in category], dtype=float)
    travel = rng.gamma(9.0, np.where(rural, rural_mean, urban_mean) / 9.0)
    if service == "ambulance":
        urgent = np.isin(category, ["cardiac_arrest", "C1"])
        travel += np.where(
            urgent & (call >= np.datetime64(PLANTED["ambulance_drift_start"])),
            PLANTED["ambulance_drift_seconds"],
            0.0,
        )
        if is_northmoor:
            co_responded = (
                (category == "cardiac_arrest")
                & rural
                & (call >= np.datetime64(PLANTED["co_responding_go_live"]))
            )
            travel += np.where(co_responded, PLANTED["co_responding_change_seconds"], 0.0)
    travel = np.maximum(travel, 30.0).round()
    mobilised = call + handling.astype("timedelta64[s]")
    mobile = None
    arrival = mobilised + travel.astype("timedelta64[s]")
    return mobilised, mobile, arrival


def _months() -> list[date]:
    return [
        date(FIRST_FY + (m + 3) // 12, (m + 3) % 12 + 1, 1)
        for m in range((LAST_FY - FIRST_FY + 1) * 12)
    ]


STAFF_ROLES = {
    # role: (FTE in April 2012, FTE a year of change, shared post)
    "police": {
        "police_officer": (1_850, -12.0, False),
        "police_staff": (1_100, -8.0, False),
        "pcso": (220, -4.0, False),
        "control_room": (125, 0.0, False),
    },
    "fire": {
        "firefighter_wholetime": (420, -6.0, False),
        "firefighter_on_call": (310, -3.0, False),
        "fire_control": (32, 0.0, False),
        "support_staff": (110, -2.0, False),
    },
    "ambulance": {
        "paramedic": (1_400, 25.0, False),
        "emergency_care_assistant": (900, 10.0, False),
        "call_handler": (260, 6.0, False),
    },
}


def _staffing(rng: np.random.Generator, organisation: str, service: str, size: float):
    rows = []
    for month in _months():
        years_on = (month.year - FIRST_FY) + (month.month - 4) / 12
        for role, (fte0, per_year, shared) in STAFF_ROLES[service].items():
            fte = (fte0 + per_year * years_on) * size
            # The joint control room merges fire control into the police control room.
            if (
                organisation == "Northmoor Constabulary"
                and role == "control_room"
                and month >= PLANTED["jcr_go_live"]
            ):
                fte = 140.0
            if (
                organisation == "Northmoor Fire and Rescue Service"
                and role == "fire_control"
                and month >= PLANTED["jcr_go_live"]
            ):
                fte = 4.0
            fte = round(max(fte + rng.normal(0, fte * 0.004), 0.0), 1)
            rows.append([month, organisation, service, role, fte, int(round(fte * 1.07)), shared])
        if (
            organisation == "Northmoor Fire and Rescue Service"
            and month >= PLANTED["co_responding_go_live"]
        ):
            rows.append([month, organisation, service, "tri_service_officer", 12.0, 12, True])
    return rows


def _sites(rng: np.random.Generator, county: str, service: str, count: int):
    info = COUNTIES[county]
    districts = [d for d in DISTRICTS if d.county == county]
    cx, cy = info["centre"]
    kind = {"police": "Police Station", "fire": "Fire Station", "ambulance": "Ambulance Station"}
    sites = []
    for i in range(count):
        d = districts[i % len(districts)]
        sites.append(
            {
                "site_id": f"{info['prefix']}{service[0].upper()}S{i + 1:03d}",
                "site_name": f"{d.name} {kind[service]}"
                + (f" {i // len(districts) + 1}" if i >= len(districts) else ""),
                "service": service,
                "district_code": d.code,
                "tenure": "leasehold" if rng.random() < 0.3 else "freehold",
                "floor_area_m2": float(round(rng.uniform(600, 3_500))),
                "cost_2012": float(round(rng.uniform(60_000, 240_000), -2)),
                "easting": int(cx + rng.integers(-25_000, 25_000)),
                "northing": int(cy + rng.integers(-25_000, 25_000)),
            }
        )
    return sites


# Northmoor police sites that close, with the month they close and the fire site they move into.
DISPOSALS = (
    ("NMPS003", date(2016, 7, 1), "NMFS003", 640_000.0),
    ("NMPS004", date(2016, 10, 1), "NMFS004", 415_000.0),
    ("NMPS005", date(2017, 4, 1), "NMFS005", 880_000.0),
    ("NMPS008", date(2017, 11, 1), "NMFS008", 530_000.0),
    ("NMPS009", date(2018, 6, 1), "NMFS009", 1_120_000.0),
    ("NMPS010", date(2019, 1, 1), "NMFS010", 395_000.0),
)
INFLATION = 0.025  # running costs rise 2.5% a year in cash terms


def _estates(rng: np.random.Generator, organisation: str, county: str, service: str, count: int):
    disposed = {p: (when, receipt) for p, when, _, receipt in DISPOSALS}
    hosts = {f: when for _, when, f, _ in DISPOSALS}
    rows = []
    for site in _sites(rng, county, service, count):
        for fy in range(FIRST_FY, LAST_FY + 1):
            fy_start, fy_end = date(fy, 4, 1), date(fy + 1, 4, 1)
            cost = site["cost_2012"] * (1 + INFLATION) ** (fy - FIRST_FY)
            disposal, receipt = disposed.get(site["site_id"], (None, None))
            if disposal and disposal < fy_start:
                break  # gone: no longer in the return
            co_since = hosts.get(site["site_id"])
            if disposal and disposal < fy_end:
                months_open = (disposal.year - fy) * 12 + disposal.month - 4
                cost *= months_open / 12
            rows.append(
                [
                    site["site_id"],
                    financial_year_label(fy),
                    site["site_name"],
                    organisation,
                    service,
                    site["district_code"],
                    site["tenure"],
                    site["floor_area_m2"],
                    round(cost, 2),
                    "police" if co_since and co_since < fy_end else "",
                    co_since.isoformat() if co_since and co_since < fy_end else "",
                    disposal.isoformat() if disposal and disposal < fy_end else "",
                    receipt if disposal and disposal < fy_end else "",
                    site["easting"],
                    site["northing"],
                ]
            )
    return rows


# Spend a year in April 2012 (pounds cash) and its split by line, per service.
SPEND_2012 = {"police": 185_000_000, "fire": 38_000_000, "ambulance": 240_000_000}
SPEND_LINES = {
    "employees": 0.76,
    "premises": 0.07,
    "transport": 0.04,
    "supplies_and_services": 0.09,
    "capital_financing": 0.04,
}


def _finance(rng: np.random.Generator, organisation: str, service: str, size: float):
    rows = []
    for fy in range(FIRST_FY, LAST_FY + 1):
        total = SPEND_2012[service] * size * 1.02 ** (fy - FIRST_FY)
        for line, share in SPEND_LINES.items():
            spend = round(total * share * rng.normal(1.0, 0.02), -3)
            budget = round(spend * rng.normal(1.0, 0.015), -3)
            rows.append([financial_year_label(fy), organisation, service, line, budget, spend])
    return rows


BIDS = (
    (
        "PIF-2014-NM01",
        "Northmoor Joint Police and Fire Control Room",
        "PIF 2014/15",
        "Northmoor Police and Crime Commissioner",
        "Northmoor Constabulary;Northmoor Fire and Rescue Service",
        "Northmoor",
        1_900_000.0,
        600_000.0,
        PLANTED["jcr_go_live"],
    ),
    (
        "PIF-2014-NM02",
        "Northmoor Blue Light Estate Sharing",
        "PIF 2014/15",
        "Northmoor Police and Crime Commissioner",
        "Northmoor Constabulary;Northmoor Fire and Rescue Service",
        "Northmoor",
        2_400_000.0,
        350_000.0,
        PLANTED["estate_go_live"],
    ),
    (
        "PIF-2016-NM03",
        "Northmoor Rural Co-responding",
        "PIF 2016/17",
        "Northmoor Police and Crime Commissioner",
        "Northmoor Fire and Rescue Service;Western Moors Ambulance Service NHS Trust",
        "Northmoor",
        450_000.0,
        120_000.0,
        PLANTED["co_responding_go_live"],
    ),
)


def _benefits(police_estate_baseline: float) -> dict[str, list[list]]:
    """The benefits register per bid, as the bid team wrote it."""
    return {
        "PIF-2014-NM01": _benefits_nm01(police_estate_baseline),
        "PIF-2014-NM02": _benefits_nm02(police_estate_baseline),
        "PIF-2016-NM03": _benefits_nm03(),
    }


def _benefits_nm01(police_estate_baseline: float) -> list[list]:
    """The benefits register of PIF-2014-NM01."""
    common = ["Northmoor"]
    return [
        [
            "B-NM01-01",
            "PIF-2014-NM01",
            "Faster fire call handling in the joint control room",
            "non_financial",
            "recurring",
            "fire",
            "Head of Joint Control",
            "fire_call_handling_mean_seconds",
            *common,
            "all",
            "seconds",
            "decrease",
            95.0,
            "2014-15",
            70.0,
            date(2017, 3, 31),
            1.0,
            "2014-15",
            "Fire incident records (mobilising system)",
            "high",
        ],
        [
            "B-NM01-02",
            "PIF-2014-NM01",
            "Police control room building released (share of police estate saving)",
            "cashable",
            "recurring",
            "police",
            "Director of Estates",
            "police_estate_running_cost_gbp",
            *common,
            "all",
            "gbp",
            "decrease",
            police_estate_baseline,
            "2014-15",
            police_estate_baseline - 750_000.0,  # the whole measure's target ...
            date(2019, 3, 31),
            0.2,  # ... of which this bid claims a fifth
            "2014-15",
            "Police estate return",
            "medium",
        ],
    ]


def _benefits_nm02(police_estate_baseline: float) -> list[list]:
    """The benefits register of PIF-2014-NM02."""
    common = ["Northmoor"]
    return [
        [
            "B-NM02-01",
            "PIF-2014-NM02",
            "Police estate running costs cut by sharing fire stations",
            "cashable",
            "recurring",
            "police",
            "Director of Estates",
            "police_estate_running_cost_gbp",
            *common,
            "all",
            "gbp",
            "decrease",
            police_estate_baseline,
            "2014-15",
            police_estate_baseline - 750_000.0,
            date(2019, 3, 31),
            0.8,
            "2014-15",
            "Police estate return",
            "high",
        ],
        [
            "B-NM02-02",
            "PIF-2014-NM02",
            "Capital receipts from police sites disposed of",
            "cashable",
            "one_off",
            "police",
            "Director of Estates",
            "capital_receipts_cumulative_gbp",
            *common,
            "all",
            "gbp",
            "increase",
            0.0,
            "2014-15",
            4_000_000.0,
            date(2020, 3, 31),
            1.0,
            "2014-15",
            "Police estate return (disposals)",
            "high",
        ],
    ]


def _benefits_nm03() -> list[list]:
    """The benefits register of PIF-2016-NM03."""
    common = ["Northmoor"]
    return [
        [
            "B-NM03-01",
            "PIF-2016-NM03",
            "Earlier help at rural cardiac arrests",
            "non_financial",
            "recurring",
            "ambulance",
            "Co-responding Lead",
            "cardiac_arrest_response_mean_minutes",
            *common,
            "rural",
            "minutes",
            "decrease",
            11.5,
            "2015-16",
            9.5,
            date(2018, 3, 31),
            1.0,
            "2015-16",
            "Ambulance incident records (CAD)",
            "medium",
        ],
    ]


def _zip_deterministic(path: Path) -> None:
    """Rewrite an XLSX with fixed entry times, so the same rows give the same bytes."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    # openpyxl stamps the save time into docProps/core.xml whatever the workbook says.
    entries = [
        (
            name,
            re.sub(
                rb"<dcterms:modified([^>]*)>[^<]*<",
                rb"<dcterms:modified\1>2026-01-01T00:00:00Z<",
                data,
            ),
        )
        if name == "docProps/core.xml"
        else (name, data)
        for name, data in entries
    ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            zout.writestr(
                zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    ws = wb.create_sheet("Data")
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    _zip_deterministic(path)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            "" if v is None else v.isoformat() if isinstance(v, date) else v for v in row
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")


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
    counts["benefits_register"] = 0
    for bid_id, rows in _benefits(round(police_baseline, -3)).items():
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
                frame = _incidents(rng, county, service, fy, scale)
                name = f"{info['slug']}_{service}_{financial_year_label(fy)}.csv"
                frame.to_csv(_folder(inbox, "incidents") / name, index=False, lineterminator="\n")
                written += len(frame)
        progress(f"  demo incidents for {county}: done")
    return written


def _write_staffing(inbox: Path, rng: np.random.Generator, organisations: list) -> int:
    written = 0
    for organisation, service, size in organisations:
        rows = _staffing(rng, organisation, service, size)
        slug = organisation.lower().replace(" ", "_")
        write_xlsx(_folder(inbox, "staffing") / f"{slug}.xlsx", _columns("staffing"), rows)
        written += len(rows)
    return written


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
            rows = _estates(rng, organisation, county, service, count)
            if organisation == "Northmoor Constabulary":
                police_baseline = sum(r[8] for r in rows if r[1] == "2014-15")
            slug = organisation.lower().replace(" ", "_")
            path = _folder(inbox, "estates") / f"{slug}_estate_return.csv"
            write_csv(path, _columns("estates"), rows)
            written += len(rows)
    return written, police_baseline


def _write_finance(inbox: Path, rng: np.random.Generator, organisations: list) -> int:
    written = 0
    for organisation, service, size in organisations:
        rows = _finance(rng, organisation, service, size)
        slug = organisation.lower().replace(" ", "_")
        write_csv(_folder(inbox, "finance") / f"{slug}_outturn.csv", _columns("finance"), rows)
        written += len(rows)
    return written
