"""The agencies' own returns in the demo: staffing by month, estate sites and their running costs
(with the planted disposals of the shared estate bid), and finance by line."""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np

from flows.demo.world import (
    COUNTIES,
    DISTRICTS,
    FIRST_FY,
    LAST_FY,
    PLANTED,
    demo_months,
    financial_year_label,
)

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


def staffing_rows(rng: np.random.Generator, organisation: str, service: str, size: float):
    rows = []
    for month in demo_months():
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


def site_running_cost(site_id: str, cost_2012: float, fy: int) -> float:
    """A site's running cost in financial year `fy`, pounds cash, had it been open all year: its
    2012-13 cost grown at the planted rate (PLANTED["estate_cost_growth"], about two points a
    year above the GDP deflator in both counties: a national trend a before/after counts as the
    project's), times the site's own year-to-year wobble (about 4%, fixed by site and year). A
    closed site's figure is the cost it saves: the planted true saving."""
    wobble = np.random.default_rng(zlib.crc32(f"{site_id}/{fy}".encode())).lognormal(0.0, 0.04)
    growth = (1 + PLANTED["estate_cost_growth"]) ** (fy - FIRST_FY)
    return cost_2012 * growth * wobble / _first_wobble(site_id)


def _first_wobble(site_id: str) -> float:
    """The 2012-13 wobble, divided out so that a site's first year costs exactly cost_2012."""
    return np.random.default_rng(zlib.crc32(f"{site_id}/{FIRST_FY}".encode())).lognormal(0.0, 0.04)


def estate_rows(rng: np.random.Generator, organisation: str, county: str, service: str, count: int):
    disposed = {p: (when, receipt) for p, when, _, receipt in DISPOSALS}
    hosts = {f: when for _, when, f, _ in DISPOSALS}
    rows = []
    for site in _sites(rng, county, service, count):
        for fy in range(FIRST_FY, LAST_FY + 1):
            fy_start, fy_end = date(fy, 4, 1), date(fy + 1, 4, 1)
            cost = site_running_cost(site["site_id"], site["cost_2012"], fy)
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


def finance_rows(rng: np.random.Generator, organisation: str, service: str, size: float):
    rows = []
    for fy in range(FIRST_FY, LAST_FY + 1):
        total = SPEND_2012[service] * size * 1.02 ** (fy - FIRST_FY)
        for line, share in SPEND_LINES.items():
            spend = round(total * share * rng.normal(1.0, 0.02), -3)
            budget = round(spend * rng.normal(1.0, 0.015), -3)
            rows.append([financial_year_label(fy), organisation, service, line, budget, spend])
    return rows
