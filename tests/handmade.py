"""A small inbox built by hand, whose every mart figure is worked out by hand in the tests.

Testshire (districts D1 rural, D2 urban) ran bids B1 and B2, both live 2016-04-01;
Othershire (D3) is there so a county filter has something to leave out.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from flows.demo.data import write_xlsx
from flows.sources.contracts import SOURCES


def write_rows(path: Path, source: str, rows: list[dict]) -> None:
    """Rows as an agency would send them: the contract's columns, in its order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = SOURCES[source].column_names
    if path.suffix == ".xlsx":
        write_xlsx(path, columns, [[row.get(c) for c in columns] for row in rows])
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def fire_incident(n: int, district: str, call: datetime, handling: int, response: int) -> dict:
    stamp = "%Y-%m-%d %H:%M:%S"
    mobilised = call + timedelta(seconds=handling)
    return {
        "incident_id": f"F{n}",
        "service": "fire",
        "incident_category": "primary_fire",
        "district_code": district,
        "call_time": call.strftime(stamp),
        "mobilised_time": mobilised.strftime(stamp),
        "mobile_time": (mobilised + timedelta(seconds=60)).strftime(stamp),
        "first_arrival_time": (call + timedelta(seconds=response)).strftime(stamp),
    }


def district(code, name, county, rural_urban, population, fire="F1"):
    return {
        "district_code": code,
        "district_name": name,
        "county": county,
        "rural_urban": rural_urban,
        "population": population,
        "police_force_code": "P1",
        "police_force_name": "Test Police",
        "fire_authority_code": fire,
        "fire_authority_name": f"Test Fire {fire}",
        "ambulance_trust_code": "A1",
        "ambulance_trust_name": "Test Ambulance",
    }


def site(site_id, year, service, district_code, cost, disposal="", receipt=""):
    return {
        "site_id": site_id,
        "financial_year": year,
        "site_name": site_id,
        "organisation": f"Test {service}",
        "service": service,
        "district_code": district_code,
        "tenure": "freehold",
        "floor_area_m2": 1000,
        "running_cost_gbp": cost,
        "disposal_date": disposal,
        "capital_receipt_gbp": receipt,
        "easting": 400000,
        "northing": 500000,
    }


def benefit(
    benefit_id,
    bid_id,
    measure,
    unit,
    direction,
    baseline,
    target,
    target_date,
    share,
    category="cashable",
    recurrence="recurring",
    measure_county="Testshire",
):
    return {
        "benefit_id": benefit_id,
        "bid_id": bid_id,
        "description": f"Benefit {benefit_id}",
        "category": category,
        "recurrence": recurrence,
        "beneficiary": "police",
        "owner": f"Owner of {benefit_id}",
        "measure": measure,
        "measure_county": measure_county,
        "measure_scope": "all",
        "unit": unit,
        "direction": direction,
        "baseline_value": baseline,
        "baseline_period": "2015-16",
        "target_value": target,
        "target_date": datetime.strptime(target_date, "%Y-%m-%d"),
        "attribution_share": share,
        "price_base_year": "2015-16",
        "evidence_source": "test",
        "confidence": "high",
    }


def write_handmade_inbox(inbox: Path) -> None:
    write_rows(
        inbox / "boundaries" / "districts.csv",
        "boundaries",
        [
            district("D1", "Dale", "Testshire", "rural", 1000),
            district("D2", "Hill", "Testshire", "urban", 3000),
            # Police force P1 and trust A1 serve all three; D3 has a fire authority of its own.
            district("D3", "Vale", "Othershire", "rural", 1000, fire="F2"),
        ],
    )
    may = datetime(2016, 5, 2, 10, 0, 0)
    june = datetime(2015, 6, 1, 9, 0, 0)
    write_rows(
        inbox / "incidents" / "fire.csv",
        "incidents",
        [
            # Baseline year 2015-16 in D2: call handling 90 and 110 s (mean 100), responses 600 s.
            fire_incident(1, "D2", june, 90, 600),
            fire_incident(2, "D2", june + timedelta(days=1), 110, 600),
            # May 2016 in D1: responses 300, 360, 420, 480, 1200 s; call handling mean 80 s.
            *(
                fire_incident(3 + i, "D1", may + timedelta(days=i), h, r)
                for i, (h, r) in enumerate([(70, 300), (80, 360), (80, 420), (90, 480), (80, 1200)])
            ),
            # Othershire (the comparison): call handling 190 and 210 s before go-live, 400 and
            # 420 s after; responses of 50 minutes, which must not leak into Testshire's figures.
            fire_incident(8, "D3", may, 400, 3000),
            fire_incident(9, "D3", may + timedelta(days=1), 420, 3000),
            fire_incident(10, "D3", june + timedelta(days=30), 190, 3000),
            fire_incident(11, "D3", june + timedelta(days=31), 210, 3000),
        ],
    )
    write_rows(
        inbox / "estates" / "estate_return.csv",
        "estates",
        [
            site("S1", "2015-16", "police", "D1", 1_000_000),
            site("S1", "2016-17", "police", "D1", 800_000),
            site("S2", "2015-16", "fire", "D2", 500_000),
            site("S2", "2016-17", "fire", "D2", 500_000),
            site("S3", "2015-16", "police", "D2", 200_000),
            site("S3", "2016-17", "police", "D2", 100_000, disposal="2016-10-01", receipt=250_000),
        ],
    )
    # Fire authority F1 (Dale and Hill) spends 300,000 + 200,000 in 2016-17.
    write_rows(
        inbox / "finance" / "test_fire.csv",
        "finance",
        [
            {
                "financial_year": "2016-17",
                "organisation": "Test Fire F1",
                "service": "fire",
                "line": line,
                "budget_gbp": spend,
                "spend_gbp": spend,
            }
            for line, spend in (("employees", 300_000), ("premises", 200_000))
        ],
    )
    write_rows(
        inbox / "bids" / "bids.csv",
        "bids",
        [
            {
                "bid_id": b,
                "title": f"Bid {b}",
                "fund_round": "PIF 2015/16",
                "lead_organisation": "Test PCC",
                "partners": "Test police;Test fire",
                "county": "Testshire",
                "award_gbp": award,
                "partner_contribution_gbp": 20_000,
                "go_live_date": "2016-04-01",
            }
            for b, award in (("B1", 100_000), ("B2", 300_000))
        ],
    )
    write_b1_register(inbox)
    write_rows(
        inbox / "benefits_register" / "B2.xlsx",
        "benefits_register",
        [
            benefit(
                "BEN3",
                "B2",
                "police_estate_running_cost_gbp",
                "gbp",
                "decrease",
                1_200_000,
                900_000,
                "2017-03-31",
                0.75,
            ),
            benefit(
                "BEN4",
                "B2",
                "capital_receipts_cumulative_gbp",
                "gbp",
                "increase",
                0,
                1_000_000,
                "2018-03-31",
                1.0,
                recurrence="one_off",
            ),
        ],
    )


def write_b1_register(inbox: Path, ben1_target: float = 40, ben2_target: float = 900_000) -> None:
    """B1's benefits register; a test may resend it with a target moved."""
    write_rows(
        inbox / "benefits_register" / "B1.xlsx",
        "benefits_register",
        [
            benefit(
                "BEN1",
                "B1",
                "fire_call_handling_mean_seconds",
                "seconds",
                "decrease",
                100,
                ben1_target,
                "2018-03-31",
                1.0,
                category="non_financial",
            ),
            benefit(
                "BEN2",
                "B1",
                "police_estate_running_cost_gbp",
                "gbp",
                "decrease",
                1_200_000,
                ben2_target,
                "2017-03-31",
                0.25,
            ),
        ],
    )


def write_dashboard_extras(inbox: Path) -> None:
    """What the dashboard shows beyond the benefits: a staffing return (one row of it quarantined,
    a shared post), a staffing file refused, and a fire station in Othershire that ambulance
    shares. None of it touches a benefit's measure (Testshire police estate, fire call handling,
    capital receipts), so every known answer above still holds."""
    staff = [
        ("2016-04-01", "Test Police", "police", "police_officer", "100", "105", "false"),
        ("2016-05-01", "Test Police", "police", "police_officer", "98.5", "103", "false"),
        ("2016-04-01", "Test Fire F1", "fire", "firefighter", "40", "42", "false"),
        ("2016-05-01", "Test Fire F1", "fire", "firefighter", "40", "42", "false"),
        ("2016-05-01", "Test Fire F1", "fire", "tri_service_officer", "2", "2", "true"),
        # Set aside: an FTE that is not a number.
        ("2016-06-01", "Test Police", "police", "police_officer", "lots", "100", "false"),
    ]
    columns = ["month", "organisation", "service", "role", "fte", "headcount", "shared_post"]
    write_rows(
        inbox / "staffing" / "test_staffing.csv",
        "staffing",
        [dict(zip(columns, row, strict=True)) for row in staff],
    )
    broken = inbox / "staffing" / "no_headcount.csv"
    broken.write_text(
        "month,organisation,service,role,fte,shared_post\n"
        "2016-04-01,Test Police,police,pcso,10,false\n",
        encoding="utf-8",
    )
    write_rows(
        inbox / "estates" / "othershire.csv",
        "estates",
        [
            {
                **site("S4", "2016-17", "fire", "D3", 300_000),
                "co_located_services": "ambulance",
                "co_located_since": "2016-06-01",
                "easting": 420000,
                "northing": 520000,
            }
        ],
    )


B3 = {
    "bid_id": "B3",
    "title": "Bid B3",
    "fund_round": "PIF 2016/17",
    "lead_organisation": "Test PCC",
    "partners": "Test police;Test fire",
    "county": "Testshire",
    "award_gbp": 100_000,
    "partner_contribution_gbp": 0,
    "go_live_date": "2016-04-01",
}


def write_b3(inbox: Path, register: bool) -> None:
    """A third bid; every bid needs a benefits register, so without one the marts' check fails.
    Its benefit is fire call handling in Testshire's rural districts: B1 already claims the
    whole change over all of Testshire, and one change is credited once."""
    write_rows(inbox / "bids" / "bids_b3.csv", "bids", [B3])
    if register:
        ben5 = benefit(
            "BEN5",
            "B3",
            "fire_call_handling_mean_seconds",
            "seconds",
            "decrease",
            100,
            80,
            "2018-03-31",
            1.0,
            category="non_financial",
        )
        write_rows(
            inbox / "benefits_register" / "B3.xlsx",
            "benefits_register",
            [{**ben5, "measure_scope": "rural"}],
        )


def write_othershire_bid(inbox: Path) -> None:
    """A bid of the other area: B4, in Othershire (fire authority F2), whose one benefit is
    Othershire's fire call handling (mean 200 s before go-live, 410 s after). With it the
    warehouse holds two areas' bids, for the tests of who sees which."""
    b4 = {**B3, "bid_id": "B4", "title": "Bid B4", "county": "Othershire"}
    write_rows(inbox / "bids" / "bids_b4.csv", "bids", [b4])
    ben6 = benefit(
        "BEN6",
        "B4",
        "fire_call_handling_mean_seconds",
        "seconds",
        "decrease",
        200,
        150,
        "2018-03-31",
        1.0,
        category="non_financial",
        measure_county="Othershire",
    )
    write_rows(inbox / "benefits_register" / "B4.xlsx", "benefits_register", [ben6])
