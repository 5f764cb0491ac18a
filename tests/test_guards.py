"""Guards on the figures: a change credited to bids more than once stops the publish; ambulance
times are never mixed across categories; co-terminosity is read both ways."""

from __future__ import annotations

import pytest
from conftest import open_published, run_flow, settings_for
from handmade import benefit, write_handmade_inbox, write_rows


def test_attribution_shares_of_one_measure_above_one_stop_the_publish(tmp_path):
    # B2 claims 0.75 of the cut in Testshire's police estate costs; B1 is resent claiming 0.45
    # of the same change: 1.2 in all, so one saving would count more than once.
    write_handmade_inbox(tmp_path / "inbox")
    ben2 = benefit(
        "BEN2", "B1", "police_estate_running_cost_gbp", "gbp", "decrease",
        1_200_000, 900_000, "2017-03-31", 0.45,
    )  # fmt: skip
    write_rows(tmp_path / "inbox" / "benefits_register" / "B1.xlsx", "benefits_register", [ben2])
    result = run_flow(tmp_path)
    assert result["status"] == "failed"
    assert "mart.fct_measure_attribution" in result["error"]
    assert "measure=police_estate_running_cost_gbp" in result["error"]
    assert "bid_ids=B1, B2" in result["error"]
    assert "total_attribution_share=1.2" in result["error"]
    assert not settings_for(tmp_path).published_db.exists()  # nothing published


def test_ambulance_times_are_per_category_only(demo_home):
    with open_published(demo_home) as con:
        rows = con.execute(
            """
            select incident_category, count(*), count(median_response_minutes),
                   count(p90_response_minutes), count(mean_response_minutes),
                   count(share_within_standard), sum(incidents)
            from marts.fct_response_times_monthly
            where service = 'ambulance' and area_type = 'county'
            group by incident_category
        """
        ).fetchall()
        rules = dict(
            con.execute(
                "select incident_category, clock_rule from reference.response_standards "
                "where service = 'ambulance'"
            ).fetchall()
        )
    by_category = {r[0]: r[1:] for r in rows}
    months, *times, incidents = by_category.pop("all")
    assert times == [0, 0, 0, 0]  # no time across categories with different clocks
    assert incidents == sum(r[-1] for r in by_category.values())  # but every incident counted
    for category, (months, *times, _) in by_category.items():
        assert times == [months] * 4, category  # each category has its times
    assert (
        rules["C1"].startswith("ARP category 1: the clock starts") and "30 seconds" in rules["C1"]
    )
    assert all("240 seconds" in rules[c] for c in ("C2", "C3", "C4"))


def test_coterminosity_is_measured_both_ways(demo_home):
    # The demo: Northmoor's police force and fire service serve the same five districts (561,000
    # people); one ambulance trust serves both counties (561,000 + 552,000 = 1,113,000).
    with open_published(demo_home) as con:
        pairs = {
            (r[0], r[1], r[2]): r[3:]
            for r in con.execute(
                """
                select area_code, partner_code, partner_type, shared_population,
                       area_population_share, partner_population_share, is_coterminous
                from marts.fct_coterminosity_pairs
            """
            ).fetchall()
        }
    police_fire = pairs[("X31000001", "X23000001", "police_force_area")]
    assert police_fire == (561_000, 1.0, 1.0, True)
    trust_police = pairs[("XR1", "X23000001", "police_force_area")]
    assert trust_police[0] == 561_000
    assert trust_police[1] == pytest.approx(561_000 / 1_113_000)  # the trust, mostly outside
    assert trust_police[2:] == (1.0, False)  # the force, wholly inside the trust
