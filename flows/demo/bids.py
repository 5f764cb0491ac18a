"""The demo's Police Innovation Fund bids, their cost profiles and their benefits registers: what
each bid cost and promised, against the effects planted in world.PLANTED."""

from __future__ import annotations

from datetime import date

from flows.demo.world import (
    PLANTED,
)

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
        "equipment_development",  # a mobilising system: the Green Book's equipment type
        None,  # no optimism bias of its own: the upper bound applies
        15,
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
        "standard_buildings",
        0.1,  # its appraisal evidenced a lower optimism bias than the 24% upper bound
        20,
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
        "outsourcing",  # the ambulance trust buys the response from the fire service
        None,
        12,
    ),
)


LAST_ACTUAL_FY = 2025  # costs to 2025-26 are outturn (actual); later ones planned
# Each bid's recurring running costs from their first financial year to the end of its appraisal:
# (bid, funded by, first year, cash a year in that year, what for). They rise 2% a year in cash.
RECURRING = (
    ("PIF-2014-NM01", "partner", 2016, 60_000.0, "Mobilising system support and licences"),
    ("PIF-2014-NM02", "partner", 2016, 40_000.0, "Facilities management of the shared sites"),
    ("PIF-2016-NM03", "partner", 2017, 35_000.0, "Co-responder training, kit and call-outs"),
)
# Capital, paid across the award year and the year before go-live, and a later phase each bid
# plans: (bid, financial year, funded by, cash, what for).
CAPITAL = (
    ("PIF-2014-NM01", 2014, "award", 1_000_000.0, "Joint control room fit-out"),
    ("PIF-2014-NM01", 2015, "award", 900_000.0, "Mobilising system"),
    ("PIF-2014-NM01", 2015, "partner", 600_000.0, "Control room staff transition"),
    ("PIF-2014-NM01", 2027, "partner", 250_000.0, "Mobilising system refresh"),
    ("PIF-2014-NM02", 2014, "award", 1_200_000.0, "Fire station alterations for police teams"),
    ("PIF-2014-NM02", 2015, "award", 1_200_000.0, "Fire station alterations for police teams"),
    ("PIF-2014-NM02", 2015, "partner", 350_000.0, "Moves and disposals"),
    ("PIF-2014-NM02", 2026, "partner", 300_000.0, "Second phase: station refurbishment"),
    ("PIF-2016-NM03", 2015, "partner", 120_000.0, "Defibrillators and first training"),
    ("PIF-2016-NM03", 2016, "award", 450_000.0, "Co-responding vehicles and equipment"),
)


def cost_rows() -> list[list]:
    """Every bid's cost profile (source bid_costs), in the contract's column order: capital by the
    year paid, recurring costs each year from their start to the end of the bid's appraisal
    period (go-live year + appraisal_years - 1), actual to 2025-26 and planned after."""
    from flows.sources.contracts import SOURCES

    last_year = {bid[0]: _financial_year_of(bid[8]) + bid[11] - 1 for bid in BIDS}
    rows = [
        _cost(bid_id, year, "capital", funded_by, amount, description)
        for bid_id, year, funded_by, amount, description in CAPITAL
    ]
    for bid_id, funded_by, first, amount, description in RECURRING:
        for year in range(first, last_year[bid_id] + 1):
            cash = round(amount * 1.02 ** (year - first), -2)
            rows.append(_cost(bid_id, year, "recurring", funded_by, cash, description))
    columns = SOURCES["bid_costs"].column_names
    rows.sort(key=lambda r: (r["bid_id"], r["financial_year"], r["cost_type"], r["funded_by"]))
    return [[row[c] for c in columns] for row in rows]


def _financial_year_of(day: date) -> int:
    return day.year - (day.month < 4)


def _cost(bid_id, year, cost_type, funded_by, amount, description) -> dict:
    return {
        "bid_id": bid_id,
        "financial_year": f"{year}-{(year + 1) % 100:02d}",
        "cost_type": cost_type,
        "funded_by": funded_by,
        "amount_gbp": amount,
        "status": "actual" if year <= LAST_ACTUAL_FY else "planned",
        "description": description,
    }


def benefit_rows(police_estate_baseline: float) -> dict[str, list[list]]:
    """The benefits register per bid, as the bid team wrote it, in the contract's column order."""
    from flows.sources.contracts import SOURCES

    estate_target = police_estate_baseline - 750_000.0  # the whole measure's target
    registers = {
        "PIF-2014-NM01": [
            _benefit(
                "B-NM01-01", "Faster fire call handling in the joint control room",
                "non_financial", "fire", "Head of Joint Control",
                "fire_call_handling_mean_seconds", "seconds", "decrease", 95.0, 70.0,
                date(2017, 3, 31), evidence_source="Fire incident records (mobilising system)",
                confidence="high",
            ),
            _benefit(
                "B-NM01-02",
                "Police control room building released (share of police estate saving)",
                "cashable", "police", "Director of Estates", "police_estate_running_cost_gbp",
                "gbp", "decrease", police_estate_baseline, estate_target, date(2019, 3, 31),
                attribution_share=0.2,  # a fifth of the estate saving; NM02 claims the rest
                evidence_source="Police estate return", confidence="medium",
            ),
        ],
        "PIF-2014-NM02": [
            _benefit(
                "B-NM02-01", "Police estate running costs cut by sharing fire stations",
                "cashable", "police", "Director of Estates", "police_estate_running_cost_gbp",
                "gbp", "decrease", police_estate_baseline, estate_target, date(2019, 3, 31),
                attribution_share=0.8, evidence_source="Police estate return",
                confidence="high",
            ),
            _benefit(
                "B-NM02-02", "Capital receipts from police sites disposed of", "cashable",
                "police", "Director of Estates", "capital_receipts_cumulative_gbp", "gbp",
                "increase", 0.0, 4_000_000.0, date(2020, 3, 31), recurrence="one_off",
                evidence_source="Police estate return (disposals)", confidence="high",
            ),
        ],
        "PIF-2016-NM03": [
            _benefit(
                "B-NM03-01", "Earlier help at rural cardiac arrests", "non_financial",
                "ambulance", "Co-responding Lead", "cardiac_arrest_response_mean_minutes",
                "minutes", "decrease", 11.5, 9.5, date(2018, 3, 31), measure_scope="rural",
                baseline_period="2015-16", evidence_source="Ambulance incident records (CAD)",
                confidence="medium",
            ),
        ],
    }  # fmt: skip
    columns = SOURCES["benefits_register"].column_names
    return {
        bid_id: [[{**benefit, "bid_id": bid_id}[c] for c in columns] for benefit in benefits]
        for bid_id, benefits in registers.items()
    }


def _benefit(
    benefit_id, description, category, beneficiary, owner, measure, unit, direction,
    baseline_value, target_value, target_date, **others,
) -> dict:  # fmt: skip
    """One benefit, by column. Unless `others` says otherwise it is recurring, over all of
    Northmoor, wholly its bid's, and baselined and priced in 2014-15."""
    named = dict(locals())
    benefit = {
        "recurrence": "recurring",
        "measure_county": "Northmoor",
        "measure_scope": "all",
        "baseline_period": "2014-15",
        "attribution_share": 1.0,
        **{k: v for k, v in named.items() if k != "others"},
        **others,
    }
    benefit.setdefault("price_base_year", benefit["baseline_period"])
    return benefit
