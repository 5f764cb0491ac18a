"""The counterfactual and attribution estimators (difference in differences on units, Welch
interval, permutation test, pre-trend and placebo): known answers worked by hand, the same
answers through a real nightly build, the demo's planted effects recovered, and a placebo study
over 100 seeds with no effect planted.

The statistics live in the dbt Python models' files (dbt_project/models/marts/
fct_benefit_attribution.py and fct_benefit_counterfactual.py); they are imported here by path.
"""

from __future__ import annotations

import importlib.util
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

MARTS = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts"


def _model_file(name: str):
    spec = importlib.util.spec_from_file_location(name, MARTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


attribution = _model_file("fct_benefit_attribution")
counterfactual = _model_file("fct_benefit_counterfactual")

# Student's t 97.5% point with 3 degrees of freedom, from any table of t: 3.182446.
T_3 = 3.182446305284263


# ---------------------------------------------------------------- the arithmetic, by hand


def test_welch_difference_interval_and_degrees_of_freedom_by_hand():
    # Two treated units changed by -29 and -29, four comparison units by 8, 4, 4 and 4.
    #   treated mean -29, sample variance 0;
    #   comparison mean 20/4 = 5, deviations 3, -1, -1, -1, sum of squares 12, variance 12/3 = 4.
    # Estimate -29 - 5 = -34. Standard error sqrt(0/2 + 4/4) = 1.
    # Welch-Satterthwaite df = (0 + 1)^2 / (0^2/1 + 1^2/3) = 3, so the 95% interval is
    # -34 +- t(0.975, 3) x 1 = -34 +- 3.182446: [-37.182446, -30.817554].
    result = attribution.welch([-29, -29], [8, 4, 4, 4])
    assert result["estimate"] == pytest.approx(-34)
    assert result["standard_error"] == pytest.approx(1)
    assert result["degrees_of_freedom"] == pytest.approx(3)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((-34 - T_3, -34 + T_3))
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(34, 3))

    # Unequal spreads: treated -30 and -28 (variance 2, so 2/2 = 1 for the mean), comparison as
    # above (4/4 = 1). SE sqrt(1 + 1) = 1.414214; df (1 + 1)^2 / (1^2/1 + 1^2/3) = 4 / (4/3)
    # = 3; interval -34 +- 3.182446 x 1.414214 = -34 +- 4.500727.
    result = counterfactual.welch([-30, -28], [8, 4, 4, 4])
    assert result["estimate"] == pytest.approx(-34)
    assert result["standard_error"] == pytest.approx(math.sqrt(2))
    assert result["degrees_of_freedom"] == pytest.approx(3)
    assert result["ci_high"] - result["estimate"] == pytest.approx(T_3 * math.sqrt(2))


def test_welch_needs_two_units_an_arm_for_an_interval():
    assert attribution.welch([-30], [1, 2, 3])["estimate"] == pytest.approx(-32)
    assert attribution.welch([-30], [1, 2, 3])["standard_error"] is None
    assert attribution.welch([], [1, 2])["estimate"] is None
    # Every change equal within each arm (a baseline year): exact, no degrees of freedom.
    exact = counterfactual.welch([0, 0], [0, 0, 0])
    assert (exact["estimate"], exact["ci_low"], exact["ci_high"]) == (0, 0, 0)
    assert exact["degrees_of_freedom"] is None
    # No spread at all: the difference is exact, p 1 when it is 0 and 0 when it is not.
    assert attribution.welch([0, 0], [0, 0, 0])["p_value"] == 1
    assert attribution.welch([1, 1], [0, 0, 0])["p_value"] == 0


def test_exact_permutation_p_value_by_hand():
    # 2 treated (-30, -35) and 3 comparison (8, 5, 6) units: C(5, 2) = 10 ways to choose the
    # treated pair. The units sum to -46, so a pair summing to s gives
    # s/2 - (-46 - s)/3 = (5s + 92)/6:
    #   (-30,-35) -38.83 (observed)  (-30,8) -3.00  (-30,5) -5.50  (-30,6) -4.67
    #   (-35,8) -7.17  (-35,5) -9.67  (-35,6) -8.83  (8,5) 26.17  (8,6) 27.00  (5,6) 24.50
    # Only the observed one is as far from 0 as 38.83: p = 1/10.
    p, assignments, method = attribution.permutation_test([-30, -35, 8, 5, 6], [1, 1, 0, 0, 0])
    assert (p, assignments) == (pytest.approx(0.1), 10)
    assert method.startswith("exact: all 10 ways")
    # And the smallest p 10 assignments can give is 1/10: never below 0.05.
    assert attribution.smallest_permutation_p(5, 2) == pytest.approx(0.1)
    # Arms of equal size: swapping them gives -estimate, so the least p is 2 in C(10, 5) = 252.
    assert attribution.smallest_permutation_p(10, 5) == pytest.approx(2 / 252)


def test_random_permutation_test_is_seeded():
    # 18 treated of 34 units: C(34, 18) = 2.2e9 assignments, so 9,999 drawn from a fixed seed.
    rng = np.random.default_rng(1)
    changes = rng.normal(0, 1, 34)
    changes[:18] -= 3  # a large effect: no drawn assignment is as extreme
    treated = np.arange(34) < 18
    first = attribution.permutation_test(changes, treated, "B-1")
    assert first == attribution.permutation_test(changes, treated, "B-1")  # same seed, same p
    p, draws, method = first
    assert draws == 9_999 and p == pytest.approx(1 / 10_000)
    assert "seed" in method and "(1 + count) / (1 + 9,999)" in method
    assert attribution.smallest_permutation_p(34, 18) == pytest.approx(1 / 10_000)


def test_reliability_rules():
    ok, note = attribution.reliability(5, 5, 0.4, 0.6)
    assert ok and "neither" in note
    assert attribution.reliability(1, 5, 0.4, 0.6) == (
        False,
        "fewer than 2 units in an arm (1 treated, 5 comparison)",
    )
    ok, note = attribution.reliability(3, 3, 0.4, 0.6)  # C(6, 3) = 20: p >= 2/20
    assert not ok and "only 20 ways" in note
    ok, note = attribution.reliability(5, 5, 0.01, 0.6)
    assert not ok and "pre-trend p = 0.010" in note
    ok, note = attribution.reliability(5, 5, 0.4, 0.049)
    assert not ok and "placebo p = 0.049" in note
    ok, note = attribution.reliability(5, 5, None, None)
    assert not ok and "no pre-trend test" in note and "no placebo test" in note


def test_the_two_model_files_compute_welch_alike():
    rng = np.random.default_rng(7)
    for _ in range(20):
        treated, comparison = rng.normal(0, 3, rng.integers(2, 9)), rng.normal(1, 1, 5)
        ours, theirs = (
            counterfactual.welch(treated, comparison),
            attribution.welch(treated, comparison),
        )
        for key in ("estimate", "standard_error", "degrees_of_freedom", "ci_low", "ci_high"):
            assert ours[key] == pytest.approx(theirs[key])


def test_a_total_scales_by_the_treated_sites_and_receipts_need_no_counterfactual():
    # Police estate, real terms: treated sites changed by -100,000 (closed: 0 after it left)
    # and -32,000; comparison sites by 5,000, 1,200 and 1,600 (mean 2,600). Per site
    # -66,000 - 2,600 = -68,600; on the two treated sites' total, 2 x -68,600 = -137,200.
    changes = pd.DataFrame(
        {
            "arm": ["treated"] * 2 + ["comparison"] * 3,
            "unit_change": [-100_000, -32_000, 5_000, 1_200, 1_600],
        }
    )
    result = counterfactual.effect_of(changes, is_total=True)
    assert result["estimate"] == pytest.approx(-68_600)
    assert result["effect"] == pytest.approx(-137_200)
    assert result["effect_ci_high"] - result["effect"] == pytest.approx(
        2 * (result["ci_high"] - result["estimate"])
    )
    # A decrease is good: improvement +137,200; the counterfactual of an actual 168,000 is
    # 168,000 + 137,200 = 305,200.
    signed = counterfactual.signed({"actual_value": 168_000.0, **result}, "decrease")
    assert signed["improvement"] == pytest.approx(137_200)
    assert signed["counterfactual_value"] == pytest.approx(305_200)
    assert signed["improvement_ci_low"] <= 137_200 <= signed["improvement_ci_high"]

    benefit = pd.Series(
        {"measure": "capital_receipts_cumulative_gbp", "baseline_period": "2015-16"}
        | {"direction": "increase"}
    )
    actuals = pd.DataFrame({"financial_year": ["2015-16", "2016-17"], "actual_value": [0, 5e5]})
    rows = counterfactual.benefit_rows(benefit, actuals, pd.DataFrame(), None)
    assert [r["effect"] for r in rows] == [0, 500_000]
    assert rows[1]["counterfactual_value"] == 0 and rows[1]["improvement"] == 500_000
    assert rows[1]["method"].startswith("before/after, no counterfactual")
    assert rows[1]["is_reliable"] and rows[1].get("effect_ci_low") is None


# ---------------------------------------------------------------- placebo study: no effect


def _district_changes(seed: int, scale: float = 0.05) -> pd.DataFrame:
    """The demo's fire incidents of both counties in 2014-15 and 2016-17 (the regional +12 s
    drift in both from April 2016), as district means of call handling; each district's
    change between the two years."""
    from flows.demo.incidents import incident_rows

    rng = np.random.default_rng(seed)
    frames = []
    for county in ("Northmoor", "Southvale"):
        for fy in (2014, 2016):
            rows = incident_rows(rng, county, "fire", fy, scale)
            handling = pd.to_datetime(rows.mobilised_time) - pd.to_datetime(rows.call_time)
            frames.append(
                pd.DataFrame(
                    {
                        "district": rows.district_code,
                        "arm": "treated" if county == "Northmoor" else "comparison",
                        "year": fy,
                        "seconds": handling.dt.total_seconds(),
                    }
                )
            )
    means = pd.concat(frames).groupby(["arm", "district", "year"]).seconds.mean().unstack()
    return (means[2016] - means[2014]).rename("unit_change").reset_index()


def test_with_no_effect_planted_the_intervals_cover_zero_and_p_values_are_uniform(monkeypatch):
    """100 demo draws (seeds 0-99, so the test is deterministic) with the control room's effect
    set to 0: Northmoor's five districts against Southvale's five, the year before go-live
    against the year after. A 95% interval should hold 0 in about 95 of 100 (at least 90:
    below that has probability about 1% by chance), and permutation p-values should be
    uniform (below 0.05 in about 5 of 100)."""
    from flows.demo import world

    monkeypatch.setitem(world.PLANTED, "jcr_call_handling_change_seconds", 0.0)
    covered, p_values = 0, []
    for seed in range(100):
        changes = _district_changes(seed)
        effect = counterfactual.effect_of(changes, is_total=False)
        covered += effect["effect_ci_low"] <= 0 <= effect["effect_ci_high"]
        p, assignments, _ = attribution.permutation_test(
            changes.unit_change, changes.arm == "treated", str(seed)
        )
        assert assignments == 252  # C(10, 5), every one
        p_values.append(p)
    p_values = np.array(p_values)
    assert covered >= 90, covered
    assert (p_values < 0.05).mean() <= 0.10
    assert stats.kstest(p_values, "uniform").pvalue > 0.05
    # Each fifth of [0, 1] holds about 20 of the 100 p-values (at least 10).
    assert np.histogram(p_values, bins=5, range=(0, 1))[0].min() >= 10


# ---------------------------------------------------------------- through a real build


def _write_inbox(inbox: Path) -> None:
    """Testshire (T1, T2) ran bid B1, live 2016-04-01; Othershire (C1-C4) ran none.

    Fire call handling, one fire each on 1 October 2014, 2015 and 2016 (seconds):
        T1 100, 102, 72   T2 110, 108, 80   C1 90, 90, 98   C2 100, 100, 104
        C3 110, 110, 114  C4 120, 120, 124
    Police estate running cost (2015-16, then 2016-17 cash; deflators 84.0 and 85.7):
        S1 (T1) 100,000, then gone from the return   S2 (T2) 200,000, 171,400
        S3 (C1) 100,000, 107,125   S4 (C2) 150,000, 154,260   S5 (C3) 200,000, 205,680
    """
    from handmade import benefit, district, fire_incident, site, write_rows

    write_rows(
        inbox / "boundaries" / "districts.csv",
        "boundaries",
        [
            district("T1", "Tor", "Testshire", "rural", 1000),
            district("T2", "Town", "Testshire", "urban", 3000),
            *(
                district(f"C{i}", f"Other {i}", "Othershire", kind, 1000, fire="F2")
                for i, kind in ((1, "rural"), (2, "rural"), (3, "urban"), (4, "urban"))
            ),
        ],
    )
    handling = {
        "T1": (100, 102, 72),
        "T2": (110, 108, 80),
        "C1": (90, 90, 98),
        "C2": (100, 100, 104),
        "C3": (110, 110, 114),
        "C4": (120, 120, 124),
    }
    write_rows(
        inbox / "incidents" / "fire.csv",
        "incidents",
        [
            fire_incident(10 * n + i, code, datetime(2014 + i, 10, 1, 10), seconds, 600)
            for n, (code, values) in enumerate(handling.items())
            for i, seconds in enumerate(values)
        ],
    )
    write_rows(
        inbox / "estates" / "police.csv",
        "estates",
        [
            site("S1", "2015-16", "police", "T1", 100_000),
            site("S2", "2015-16", "police", "T2", 200_000),
            site("S2", "2016-17", "police", "T2", 171_400),
            site("S3", "2015-16", "police", "C1", 100_000),
            site("S3", "2016-17", "police", "C1", 107_125),
            site("S4", "2015-16", "police", "C2", 150_000),
            site("S4", "2016-17", "police", "C2", 154_260),
            site("S5", "2015-16", "police", "C3", 200_000),
            site("S5", "2016-17", "police", "C3", 205_680),
        ],
    )
    write_rows(
        inbox / "bids" / "bids.csv",
        "bids",
        [
            {
                "bid_id": "B1",
                "title": "Bid B1",
                "fund_round": "PIF 2015/16",
                "lead_organisation": "Test PCC",
                "partners": "Test police;Test fire",
                "county": "Testshire",
                "award_gbp": 100_000,
                "partner_contribution_gbp": 0,
                "go_live_date": "2016-04-01",
            }
        ],
    )
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
                105,
                70,
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
                300_000,
                150_000,
                "2018-03-31",
                1.0,
            ),
        ],
    )


@pytest.fixture(scope="module")
def counterfactual_db(tmp_path_factory):
    from conftest import open_published, published_night

    home, _result = published_night(tmp_path_factory, "counterfactual", _write_inbox)
    with open_published(home) as con:
        yield con


def _row(con, table: str, benefit_id: str, columns: str, year: str | None = None):
    where = "benefit_id = ?" + (" and financial_year = ?" if year else "")
    parameters = [benefit_id, year] if year else [benefit_id]
    return con.execute(f"select {columns} from marts.{table} where {where}", parameters).fetchone()


def test_attribution_known_answers_through_the_build(counterfactual_db):
    # Window: two years either side of 2016-04-01. Each district's mean before (the 2014 and
    # 2015 fires) and after (the 2016 fire), and its change:
    #   T1 101 -> 72: -29   T2 109 -> 80: -29   C1 90 -> 98: 8   C2 100 -> 104: 4
    #   C3 110 -> 114: 4    C4 120 -> 124: 4
    # Treated before (101 + 109)/2 = 105, after 76: change -29. Comparison before 105, after
    # 110: change 5. Estimate -34, SE 1, df 3, interval -34 +- 3.182446 (the first test above).
    # Permutation: C(6, 2) = 15 ways to choose two treated; a pair summing to s gives
    # (3s + 38)/4 (the units sum to -38): the observed pair -34; (-29, 8) -6.25 twice;
    # (-29, 4) -9.25 six times; (8, 4) 18.5 three times; (4, 4) 15.5 three times. Only the
    # observed one reaches 34: p = 1/15 = 0.067, and 15 assignments can never give p < 0.05.
    # Pre-trend: comparison slopes 0 (a flat before), treated +2 and -2 s over 365 days: mean
    # 0 either way, difference 0, p = 1. Placebo (fake go-live 2015-04-01): changes T1 +2,
    # T2 -2, comparison 0: estimate 0, p = 1.
    row = _row(
        counterfactual_db,
        "fct_benefit_attribution",
        "BEN1",
        "treated_units, comparison_units, treated_before, treated_after, before_after_change, "
        "comparison_before, comparison_after, comparison_change, estimate, standard_error, "
        "degrees_of_freedom, ci_low, ci_high, permutation_p_value, permutation_assignments, "
        "pre_trend_difference, pre_trend_p_value, placebo_estimate, placebo_p_value, "
        "observations, smallest_cell, placebo_go_live_date",
    )
    assert row[:-1] == pytest.approx(
        (2, 4, 105, 76, -29, 105, 110, 5, -34, 1, 3, -34 - T_3, -34 + T_3, 1 / 15, 15)
        + (0, 1, 0, 1, 18, 2)
    )
    assert str(row[-1]) == "2015-04-01"
    reliable, note = _row(
        counterfactual_db, "fct_benefit_attribution", "BEN1", "is_reliable, reliability_note"
    )
    assert not reliable
    assert note == (
        "only 15 ways to assign the treated label: the permutation test cannot reach p < 0.05"
    )


def test_counterfactual_known_answers_through_the_build(counterfactual_db):
    # Baseline 2015-16. Each district's change to 2016-17: T1 72 - 102 = -30, T2 80 - 108 =
    # -28; C1 8, C2 4, C3 4, C4 4. Estimate -29 - 5 = -34, SE sqrt(2/2 + 4/4) = 1.414214,
    # df 3: interval -34 +- 4.500727. Testshire's 2016-17 mean is (72 + 80)/2 = 76 against
    # (102 + 108)/2 = 105 in 2015-16: before/after -29 (the old "saving"); without the bid,
    # 76 + 34 = 110 s; improvement +34 s.
    half = T_3 * math.sqrt(2)
    row = _row(
        counterfactual_db,
        "fct_benefit_counterfactual",
        "BEN1",
        "actual_value, before_after_change, effect, standard_error, degrees_of_freedom, "
        "effect_ci_low, effect_ci_high, counterfactual_value, improvement, improvement_ci_low, "
        "improvement_ci_high, treated_units, comparison_units",
        "2016-17",
    )
    assert row == pytest.approx(
        (76, -29, -34, math.sqrt(2), 3, -34 - half, -34 + half, 110, 34, 34 - half, 34 + half)
        + (2, 4)
    )
    baseline = _row(
        counterfactual_db, "fct_benefit_counterfactual", "BEN1", "effect, effect_ci_low", "2015-16"
    )
    assert baseline == (0, 0)
    reliable, note, method = _row(
        counterfactual_db,
        "fct_benefit_counterfactual",
        "BEN1",
        "is_reliable, reliability_note, method",
        "2016-17",
    )
    assert not reliable and note.startswith("attribution checks: only 15 ways")
    assert method.startswith("difference in differences on districts")


def test_estate_counterfactual_known_answers_through_the_build(counterfactual_db):
    # In 2015-16 prices (2016-17 cash x 84.0/85.7): S2 171,400 -> 168,000; S3 107,125 ->
    # 105,000; S4 154,260 -> 151,200; S5 205,680 -> 201,600. S1 left the return: 0.
    # Changes: treated S1 -100,000, S2 -32,000 (mean -66,000, variance 2,312,000,000);
    # comparison S3 +5,000, S4 +1,200, S5 +1,600 (mean 2,600, variance 4,360,000).
    # Per site -68,600; on the two treated sites' total -137,200. SE per site
    # sqrt(2,312,000,000/2 + 4,360,000/3) = 34,021.37; df (1.156e9 + 1.4533e6)^2 /
    # (1.156e9^2/1 + 1.4533e6^2/2) = 1.0025. Testshire police estate 168,000 in 2016-17
    # against 300,000: before/after -132,000; without the bid 168,000 + 137,200 = 305,200.
    v_t, v_c = 2_312_000_000 / 2, 4_360_000 / 3
    se = math.sqrt(v_t + v_c)
    df = (v_t + v_c) ** 2 / (v_t**2 / 1 + v_c**2 / 2)
    half = 2 * stats.t.ppf(0.975, df) * se
    row = _row(
        counterfactual_db,
        "fct_benefit_counterfactual",
        "BEN2",
        "actual_value, before_after_change, estimate, standard_error, degrees_of_freedom, "
        "effect, effect_ci_low, effect_ci_high, counterfactual_value, treated_units, "
        "comparison_units",
        "2016-17",
    )
    assert row == pytest.approx(
        (168_000, -132_000, -68_600, se, df, -137_200, -137_200 - half, -137_200 + half)
        + (305_200, 2, 3)
    )
    # Attribution: the same changes (one year each side of go-live). The estate's only
    # before-window year is 2015-16, so no slope and no placebo: not reliable.
    estimate, reliable, note = _row(
        counterfactual_db,
        "fct_benefit_attribution",
        "BEN2",
        "estimate, is_reliable, reliability_note",
    )
    assert estimate == pytest.approx(-137_200)
    assert not reliable and "no pre-trend test" in note and "no placebo test" in note


# ---------------------------------------------------------------- the demo's planted effects


def test_the_demo_counterfactual_recovers_the_planted_effects(demo_home):
    from conftest import open_published

    from flows.demo.world import PLANTED

    with open_published(demo_home) as con:
        rows = con.execute("""
            select benefit_id, financial_year, effect, effect_ci_low, effect_ci_high,
                   before_after_change
            from marts.fct_benefit_counterfactual
            where benefit_id in ('B-NM01-01', 'B-NM03-01')""").df()
    # Full financial years after go-live (the control room 2016-01-01, co-responding
    # 2017-01-01), each against its benefit's baseline year (2014-15; 2015-16).
    after = rows[
        ((rows.benefit_id == "B-NM01-01") & (rows.financial_year >= "2016-17"))
        | ((rows.benefit_id == "B-NM03-01") & (rows.financial_year >= "2017-18"))
    ]
    truth = {
        "B-NM01-01": PLANTED["jcr_call_handling_change_seconds"],  # -30 s
        "B-NM03-01": PLANTED["co_responding_change_seconds"] / 60,  # -2.5 min
    }
    drift = {
        "B-NM01-01": PLANTED["call_handling_drift_seconds"],  # +12 s in both counties
        "B-NM03-01": PLANTED["ambulance_drift_seconds"] / 60,  # +1 min in both counties
    }
    for benefit_id, mine in after.groupby("benefit_id"):
        covered = (mine.effect_ci_low <= truth[benefit_id]) & (
            truth[benefit_id] <= mine.effect_ci_high
        )
        # Each year's 95% interval should hold the truth; for call handling (5 districts an
        # arm, about 100 fires a district a year at scale 0.1) all ten do. Rural cardiac arrests
        # are few (3 districts an arm, about 7 a district a year): at least 7 of the 9 years
        # (by chance alone fewer has probability about 1% were the years independent).
        assert covered.sum() >= (len(mine) if benefit_id == "B-NM01-01" else 7), mine
        # The plain before/after is off by the drift both counties shared.
        gap = (mine.before_after_change - mine.effect).mean()
        assert gap == pytest.approx(drift[benefit_id], abs=0.25 * abs(drift[benefit_id]) + 0.25)
    call_handling = after[after.benefit_id == "B-NM01-01"]
    assert (call_handling.before_after_change > call_handling.effect_ci_high).all()


def test_the_demo_estate_saving_is_recovered_and_the_before_after_understates_it(demo_home):
    """The shared estate bid's true saving is each closed site's cost had it stayed open
    (flows/demo/agencies.site_running_cost: 4.5% a year in cash, about two points above the GDP
    deflator, in both counties) less what it cost: computed here from the sites' 2012-13 costs,
    in real terms at the register's 2014-15 prices. The counterfactual's interval holds it in
    every full year after the last disposal; the plain before/after, which takes the national
    rise in costs out of the saving, falls short of it by more than a tenth."""
    from conftest import open_published

    from flows.demo.agencies import DISPOSALS, site_running_cost
    from flows.demo.world import FIRST_FY

    closed = {site for site, *_ in DISPOSALS}
    with open_published(demo_home) as con:
        costs = con.execute(
            "select site_id, financial_year, running_cost_gbp from marts.fct_estate_sites_yearly "
            "where service = 'police' and county = 'Northmoor'"
        ).df()
        deflator = dict(con.execute("select * from reference.gdp_deflators").fetchall())
        rows = con.execute("""
            select financial_year, improvement, improvement_ci_low, improvement_ci_high,
                   before_after_change
            from marts.fct_benefit_counterfactual
            where benefit_id = 'B-NM02-01' and financial_year >= '2019-20'""").df()
    first = costs[costs.financial_year == f"{FIRST_FY}-{(FIRST_FY + 1) % 100:02d}"]
    cost_2012 = dict(zip(first.site_id, first.running_cost_gbp, strict=True))
    actual = {(s, y): c for s, y, c in costs.itertuples(index=False)}
    assert len(rows) >= 6
    for year, improvement, low, high, before_after in rows.itertuples(index=False):
        fy = int(year[:4])
        cash = sum(
            site_running_cost(site, cost_2012[site], fy) - actual.get((site, year), 0.0)
            for site in closed
        )
        truth = cash * deflator["2014-15"] / deflator[year]
        assert low <= truth <= high, (year, truth, low, high)
        assert abs(improvement - truth) < 0.2 * truth, (year, improvement, truth)
        assert -before_after < 0.9 * truth, (year, before_after, truth)  # the rise taken out
