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
  disposal brings a capital receipt. Estate running costs rise faster than prices in both
  counties, so a plain before/after in real terms understates the saving; the true saving is
  each closed site's cost had it stayed open.
- Rural co-responding (bid PIF-2016-NM03), live 2017-01-01: firefighters reach cardiac arrests in
  Northmoor's rural districts 150 s sooner than the ambulance would. From 2016-10-01 rising demand
  adds 60 s to cardiac arrest and C1 responses in both counties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
    # Estate running costs rise 4.5% a year in cash in both counties, about two points above the
    # GDP deflator (rates and energy): a plain before/after in real terms takes the rise out of
    # the saving. The true saving is each closed site's cost had it stayed open
    # (agencies.site_running_cost).
    "estate_cost_growth": 0.045,
}


@dataclass(frozen=True)
class District:
    code: str
    name: str
    county: str
    rural: bool
    population: int


def _county(name: str, prefix: str, number: int, police: str, fire: str, centre: tuple) -> dict:
    """A county's slug, district code prefix, police force and fire service (code, name) and the
    grid reference its districts are laid out around."""
    return {
        "slug": name.lower(),
        "prefix": prefix,
        "police": (f"X2300000{number}", police),
        "fire": (f"X3100000{number}", fire),
        "centre": centre,
    }


COUNTIES = {
    "Northmoor": _county(
        "Northmoor", "NM", 1, "Northmoor Constabulary", "Northmoor Fire and Rescue Service",
        (402_000, 512_000),
    ),
    "Southvale": _county(
        "Southvale", "SV", 2, "Southvale Police", "Southvale Fire and Rescue Service",
        (398_000, 448_000),
    ),
}  # fmt: skip
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


def demo_months() -> list[date]:
    return [
        date(FIRST_FY + (m + 3) // 12, (m + 3) % 12 + 1, 1)
        for m in range((LAST_FY - FIRST_FY + 1) * 12)
    ]
