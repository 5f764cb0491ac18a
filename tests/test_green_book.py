"""Known answers for the Green Book money: costs in the year paid, recurring costs, optimism bias,
discounting past year 30, whole-life figures, the switching value and a sensitivity, each worked
out by hand from a small hand-made inbox that one real night publishes.

Greenshire (one rural district, Greendale) ran three bids, all live 2016-04-01 (2016-17), their
registers priced in 2015-16 (the price base year: t = 0):

- G1 (standard buildings, appraised over 40 years): capital paid in 2014-15 and 2015-16, before
  go-live; recurring costs paid in 2016-17 and planned for 2017-18, when a planned capital phase
  carries optimism bias; a recurring cashable saving on Greenshire's police estate, measured in
  2016-17 and held at that real value from 2017-18 to 2055-56 (t = 40: past year 30).
- G2: one non-financial benefit only (nothing in money), its own optimism bias of 50%.
- G3: no cost profile (its award and contribution fall in the go-live year), a one-off capital
  receipt; its bids file is an old one, without the optional columns.
"""

from __future__ import annotations

import pytest
from conftest import open_published, published_night
from handmade import benefit, district, site, write_rows

from flows.sources.contracts import SOURCES

# GDP deflators (seed gdp_deflators): cash of a year times BASE / that year's is in 2015-16 prices.
BASE = 84.0
DEFLATOR = {"2014-15": 83.3, "2015-16": 84.0, "2016-17": 85.7, "2017-18": 87.2}


def real(cash: float, year: str) -> float:
    return cash * BASE / DEFLATOR[year]


def df(t: int, rate: float = 0.035, long_term: float = 0.03) -> float:
    """Green Book discount factor t years after the price base year: 1/1.035^t to year 30, the
    year-30 factor divided by 1.03 for each year after."""
    return (1 + rate) ** -t if t <= 30 else (1 + rate) ** -30 * (1 + long_term) ** -(t - 30)


# G1's saving: police estate 1,000,000 (2015-16) to 900,000 cash in 2016-17, which is
# 900,000 * 84.0/85.7 = 882,147.03 in 2015-16 prices: 117,852.97 a year in real terms.
SAVING = 1_000_000 - real(900_000, "2016-17")
# G1's costs, real terms at 2015-16 prices, by t:
#   t=-1 2014-15 capital 200,000 paid:  200,000 * 84.0/83.3 = 201,680.67, compounded forward by
#                                        1.035 (discount factor 1.035^1) = 208,739.50 in PV
#   t=0  2015-16 capital 300,000 paid:  300,000, factor 1
#   t=1  2016-17 recurring 20,000 paid: 20,000 * 84.0/85.7 = 19,603.27, / 1.035 = 18,940.36
#   t=2  2017-18 recurring 20,000 planned (standard buildings: the guidance gives no
#        operating-cost bound, so no uplift) and capital 100,000 planned with the upper bound,
#        24%: (20,000 + 124,000) * 84.0/87.2 = 138,715.60, / 1.035^2 = 129,492.49
G1_PV_COST = {
    -1: real(200_000, "2014-15") * df(-1),
    0: 300_000.0,
    1: real(20_000, "2016-17") * df(1),
    2: real(20_000 + 100_000 * 1.24, "2017-18") * df(2),
}


def write_green_book_inbox(inbox) -> None:
    write_rows(
        inbox / "boundaries" / "greenshire.csv",
        "boundaries",
        [district("G1", "Greendale", "Greenshire", "rural", 1000)],
    )
    write_rows(
        inbox / "estates" / "greenshire.csv",
        "estates",
        [
            site("GP1", "2015-16", "police", "G1", 1_000_000),
            site("GP1", "2016-17", "police", "G1", 900_000),
            site("GF1", "2015-16", "fire", "G1", 300_000),
            site("GF1", "2016-17", "fire", "G1", 300_000, disposal="2016-10-01", receipt=100_000),
        ],
    )
    bid = {
        "fund_round": "PIF 2015/16",
        "lead_organisation": "Greenshire PCC",
        "partners": "Greenshire police;Greenshire fire",
        "county": "Greenshire",
        "go_live_date": "2016-04-01",
    }
    write_rows(
        inbox / "bids" / "green_book.csv",
        "bids",
        [
            {**bid, "bid_id": "G1", "title": "Shared station", "award_gbp": 500_000,
             "partner_contribution_gbp": 120_000, "project_type": "standard_buildings",
             "appraisal_years": 40},
            {**bid, "bid_id": "G2", "title": "Joint dispatch", "award_gbp": 50_000,
             "partner_contribution_gbp": 10_000, "project_type": "standard_buildings",
             "optimism_bias": 0.5},
        ],
    )  # fmt: skip
    # G3's bids file is one sent before the optional columns existed: the required ones only.
    required = SOURCES["bids"].required_columns
    g3 = {**bid, "bid_id": "G3", "title": "Station sale", "award_gbp": 100_000,
          "partner_contribution_gbp": 20_000}  # fmt: skip
    (inbox / "bids" / "old_style.csv").write_text(
        ",".join(required) + "\n" + ",".join(str(g3[c]) for c in required) + "\n"
    )
    write_rows(inbox / "bid_costs" / "costs.csv", "bid_costs", [
        _cost("G1", "2014-15", "capital", "award", 200_000, "actual"),
        _cost("G1", "2015-16", "capital", "award", 300_000, "actual"),
        _cost("G1", "2016-17", "recurring", "partner", 20_000, "actual"),
        _cost("G1", "2017-18", "recurring", "partner", 20_000, "planned"),
        _cost("G1", "2017-18", "capital", "partner", 100_000, "planned"),
        _cost("G2", "2016-17", "capital", "award", 50_000, "actual"),
        _cost("G2", "2017-18", "capital", "partner", 10_000, "planned"),
    ])  # fmt: skip
    greenshire = {"measure_county": "Greenshire"}
    registers = {
        "G1": benefit("G1-B1", "G1", "police_estate_running_cost_gbp", "gbp", "decrease",
                      1_000_000, 850_000, "2018-03-31", 1.0),
        "G2": benefit("G2-B1", "G2", "fire_call_handling_mean_seconds", "seconds", "decrease",
                      100, 80, "2018-03-31", 1.0, category="non_financial"),
        "G3": benefit("G3-B1", "G3", "capital_receipts_cumulative_gbp", "gbp", "increase", 0,
                      200_000, "2018-03-31", 1.0, recurrence="one_off"),
    }  # fmt: skip
    for bid_id, row in registers.items():
        path = inbox / "benefits_register" / f"{bid_id}.xlsx"
        write_rows(path, "benefits_register", [{**row, **greenshire}])


def _cost(bid_id, year, cost_type, funded_by, amount, status) -> dict:
    return {
        "bid_id": bid_id,
        "financial_year": year,
        "cost_type": cost_type,
        "funded_by": funded_by,
        "amount_gbp": amount,
        "status": status,
    }


@pytest.fixture(scope="module")
def green_book(tmp_path_factory):
    home, _result = published_night(tmp_path_factory, "green_book", write_green_book_inbox)
    with open_published(home) as con:
        yield con


def _value(con, bid_id: str) -> dict:
    frame = con.execute("select * from marts.fct_bid_value where bid_id = ?", [bid_id]).df()
    return frame.iloc[0].to_dict()


def test_costs_sit_in_the_years_paid_and_discount_to_the_price_base_year(green_book):
    rows = {
        year: rest
        for year, *rest in green_book.execute("""
            select financial_year, years_from_base, capital_cost_cash_gbp,
                   recurring_cost_cash_gbp, cost_real_gbp, discount_factor, pv_cost_gbp
            from marts.fct_bid_cash_flows where bid_id = 'G1'""").fetchall()
    }
    # 2014-15 is a year before the price base year: its cost compounds forward (factor 1.035).
    assert rows["2014-15"] == pytest.approx(
        [-1, 200_000, 0, real(200_000, "2014-15"), 1.035, G1_PV_COST[-1]]
    )
    assert rows["2015-16"] == pytest.approx([0, 300_000, 0, 300_000, 1, 300_000])
    assert rows["2017-18"] == pytest.approx(
        [2, 100_000, 20_000, real(144_000, "2017-18"), 1.035**-2, G1_PV_COST[2]]
    )
    # Green Book discounting: 3.5% a year to year 30, then 3.0% a year on the year-30 factor.
    assert rows["2045-46"][4] == pytest.approx(1.035**-30)  # t = 30
    assert rows["2046-47"][4] == pytest.approx(1.035**-30 / 1.03)  # t = 31, not 1.035^-31
    assert rows["2055-56"][4] == pytest.approx(1.035**-30 / 1.03**10)  # t = 40
    assert sorted(rows)[0] == "2014-15" and sorted(rows)[-1] == "2055-56"  # the appraisal period


def test_recurring_money_benefits_are_held_at_their_last_real_value(green_book):
    rows = {
        year: rest
        for year, *rest in green_book.execute("""
            select financial_year, is_forecast, benefits_real_gbp, pv_benefits_gbp
            from marts.fct_bid_cash_flows where bid_id = 'G1'""").fetchall()
    }
    assert rows["2016-17"] == pytest.approx([False, SAVING, SAVING / 1.035])
    assert rows["2017-18"] == pytest.approx([True, SAVING, SAVING / 1.035**2])
    assert rows["2055-56"] == pytest.approx([True, SAVING, SAVING * df(40)])
    assert rows["2015-16"] == pytest.approx([False, 0, 0])  # before go-live: no benefit
    # fct_benefit_cash_flows still holds the measured year alone, discounted by the same macro.
    flows = green_book.execute("""
        select financial_year, real_gbp, present_value_gbp from marts.fct_benefit_cash_flows
        where benefit_id = 'G1-B1'""").fetchall()
    assert flows == [("2016-17", pytest.approx(SAVING), pytest.approx(SAVING / 1.035))]


def test_npv_bcr_and_payback_to_date(green_book):
    # To date is 2016-17 (the last measured year, and the last year with a cost paid): the
    # saving's 117,852.97 / 1.035 = 113,867.61 against the three paid costs, 527,679.86 in PV.
    benefits = SAVING / 1.035
    cost = G1_PV_COST[-1] + G1_PV_COST[0] + G1_PV_COST[1]
    value = _value(green_book, "G1")
    assert value["cost_basis"] == "cost profile"
    assert value["to_date_year"] == "2016-17"
    assert value["pv_benefits_gbp"] == pytest.approx(benefits)
    assert value["pv_cost_gbp"] == pytest.approx(cost)
    assert value["npv_gbp"] == pytest.approx(benefits - cost)  # -413,812.25
    assert value["benefit_cost_ratio"] == pytest.approx(benefits / cost)  # 0.2158
    assert value["payback_year"] is None  # 113,868 does not yet cover 527,680


def test_whole_life_npv_bcr_payback_and_switching_value(green_book):
    # Benefits: 117,852.97 a year for t = 1..40, each discounted by df(t). Sum of factors:
    # 1.035^-1 + ... + 1.035^-30 = (1 - 1.035^-30) / 0.035 = 18.3920, plus the ten years 31-40 at
    # 1.035^-30 / 1.03^k, k = 1..10: 0.35628 * 8.5302 = 3.0391; 21.4312 in all, 2,525,727 in PV.
    factors = sum(df(t) for t in range(1, 41))
    assert factors == pytest.approx((1 - 1.035**-30) / 0.035 + 1.035**-30 * (1 - 1.03**-10) / 0.03)
    benefits = SAVING * factors
    cost = sum(G1_PV_COST.values())  # 657,172.34
    value = _value(green_book, "G1")
    assert value["appraisal_from"] == "2014-15" and value["appraisal_to"] == "2055-56"
    assert value["whole_life_pv_benefits_gbp"] == pytest.approx(benefits)
    assert value["whole_life_pv_cost_gbp"] == pytest.approx(cost)
    assert value["whole_life_npv_gbp"] == pytest.approx(benefits - cost)
    assert value["whole_life_bcr"] == pytest.approx(benefits / cost)  # about 3.84
    # Benefits could fall by 1 - 657,172 / 2,525,727 = 74% before the BCR dropped to 1.
    assert value["switching_value"] == pytest.approx(1 - cost / benefits)
    # Payback: the cumulative discounted saving passes the 657,172 of cost in the seventh year
    # after the base (t = 7, 2022-23): 117,853 * (1.035^-1 + ... + 1.035^-7) = 720,617, where
    # six years give 627,986.
    assert (
        SAVING * sum(df(t) for t in range(1, 7)) < cost < SAVING * sum(df(t) for t in range(1, 8))
    )
    assert value["whole_life_payback_year"] == "2022-23"


def test_optimism_bias_range_and_the_bids_own_share(green_book):
    # G1 names no share of its own: the headline is the upper bound (24% on the planned capital),
    # the low figure the lower bound, 2%: 100,000 * 0.22 less in 2017-18 prices, discounted.
    g1 = _value(green_book, "G1")
    assert g1["optimism_bias_basis"] == "Green Book upper bound"
    assert g1["whole_life_npv_ob_high_gbp"] == pytest.approx(g1["whole_life_npv_gbp"])
    low_cost = sum(G1_PV_COST.values()) - real(100_000 * 0.22, "2017-18") * df(2)
    assert g1["whole_life_npv_ob_low_gbp"] == pytest.approx(
        g1["whole_life_pv_benefits_gbp"] - low_cost
    )
    assert g1["whole_life_bcr_ob_low"] == pytest.approx(g1["whole_life_pv_benefits_gbp"] / low_cost)
    # G2's own appraisal uses 50%: its planned 10,000 counts as 15,000 in the headline, 10,200
    # at the lower bound and 12,400 at the upper; its paid 50,000 carries none.
    g2 = _value(green_book, "G2")
    paid = real(50_000, "2016-17") * df(1)
    planned = real(10_000, "2017-18") * df(2)
    assert g2["optimism_bias_basis"] == "bid appraisal"
    assert g2["pv_cost_gbp"] == pytest.approx(paid)  # to date: 2016-17, the payment
    assert g2["whole_life_pv_cost_gbp"] == pytest.approx(paid + 1.5 * planned)
    assert g2["whole_life_npv_ob_low_gbp"] == pytest.approx(-(paid + 1.02 * planned))
    assert g2["whole_life_npv_ob_high_gbp"] == pytest.approx(-(paid + 1.24 * planned))


def test_a_bid_with_no_money_benefit_has_no_bcr_and_counts_its_benefits(green_book):
    g2 = _value(green_book, "G2")
    assert (g2["monetised_benefits"], g2["non_monetised_benefits"]) == (0, 1)
    assert g2["pv_benefits_gbp"] == 0 and g2["npv_gbp"] == pytest.approx(-g2["pv_cost_gbp"])
    for column in ("benefit_cost_ratio", "whole_life_bcr", "switching_value"):
        assert g2[column] is None or g2[column] != g2[column], column  # null (NaN in pandas)
    bcrs = green_book.execute(
        "select count(whole_life_bcr) from marts.fct_bid_sensitivity where bid_id = 'G2'"
    ).fetchone()
    assert bcrs == (0,)


def test_a_bid_without_a_cost_profile_is_costed_at_its_award_in_the_go_live_year(green_book):
    # G3: 100,000 award + 20,000 contribution, capital paid in 2016-17 (the go-live year):
    # 120,000 * 84.0/85.7 / 1.035. The receipt: 100,000 cash in 2016-17, the same factors. BCR
    # 100/120. A one-off benefit is not repeated, so whole life (2016-17 to 2025-26, the default
    # ten years) is the same as to date. Its bids file had none of the optional columns.
    g3 = _value(green_book, "G3")
    cost = real(120_000, "2016-17") / 1.035
    receipt = real(100_000, "2016-17") / 1.035
    assert g3["cost_basis"] == "award in go-live year (no cost profile)"
    assert g3["optimism_bias_basis"] == "none: no project type"
    assert (g3["appraisal_from"], g3["appraisal_to"]) == ("2016-17", "2025-26")
    assert [g3[c] for c in ("pv_cost_gbp", "pv_benefits_gbp", "benefit_cost_ratio")] == (
        pytest.approx([cost, receipt, 100 / 120])
    )
    assert g3["whole_life_pv_cost_gbp"] == pytest.approx(cost)
    assert g3["whole_life_bcr"] == pytest.approx(100 / 120)
    assert g3["payback_year"] is None and g3["switching_value"] == pytest.approx(1 - 120 / 100)
    assert g3["award_costed_gbp"] == 100_000


def test_a_sensitivity_row_worked_by_hand(green_book):
    rows = {
        scenario: rest
        for scenario, *rest in green_book.execute("""
            select scenario, whole_life_pv_benefits_gbp, whole_life_pv_cost_gbp,
                   whole_life_npv_gbp, whole_life_bcr, npv_change_gbp
            from marts.fct_bid_sensitivity where bid_id = 'G1'""").fetchall()
    }
    assert len(rows) == 11
    # Discounted at 5% in every year (no step down): benefits 117,852.97 * (1 - 1.05^-40) / 0.05
    # = 117,852.97 * 17.1591 = 2,022,249; costs 201,680.67 * 1.05 + 300,000 + 19,603.27 / 1.05
    # + 138,715.60 / 1.05^2 = 211,764.71 + 300,000 + 18,669.78 + 125,819.13 = 656,253.62.
    benefits = SAVING * (1 - 1.05**-40) / 0.05
    cost = (
        real(200_000, "2014-15") * 1.05
        + 300_000
        + real(20_000, "2016-17") / 1.05
        + real(144_000, "2017-18") / 1.05**2
    )
    central_npv = _value(green_book, "G1")["whole_life_npv_gbp"]
    assert rows["discount_rate_5"] == pytest.approx(
        [benefits, cost, benefits - cost, benefits / cost, benefits - cost - central_npv]
    )
    # Costs 25% up: every year's cost (with its headline optimism bias) times 1.25.
    assert rows["costs_plus_25"][1] == pytest.approx(1.25 * sum(G1_PV_COST.values()))
    assert rows["central"][2] == pytest.approx(central_npv) and rows["central"][4] == 0
