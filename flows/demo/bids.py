"""The demo's Police Innovation Fund bids and their benefits registers: what each bid promised,
against the effects planted in world.PLANTED."""

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
