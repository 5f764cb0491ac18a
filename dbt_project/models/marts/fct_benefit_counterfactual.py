"""fct_benefit_counterfactual: what each benefit's measure would have been without the bid, per
financial year from the benefit's baseline_period on, and so the bid's effect with its interval.

Why: a plain before/after (this year's value minus the baseline year's) counts everything that
changed everywhere as the bid's doing: inflation and national trends in costs, a regional
protocol that slowed call handling, rising demand. The comparison units say how much of the
change would have happened anyway.

Units (int_benefit_units, int_benefit_unit_panel): districts for the incident measures (a
district's value in a year is the mean of its incidents that year), police estate sites for
police estate running cost (a site's running cost that year in real terms at the benefit's price
base year via the GDP deflator; a site in the return in the baseline year counts 0 in the years
after it left). Treated units: those in the benefit's measure_county within its measure_scope.
Comparison units: the same scope in every county that no benefit on the same measure is
measured in (areas treated by any bid for the same measure are left out).

For each financial year t, each unit's change d_i = y_i,t - y_i,baseline, and
  estimate_t = mean of d over the treated units - mean of d over the comparison units
a difference in differences on units, which clusters by unit and so allows for incidents of one
district not being independent and for a unit's values being correlated from year to year
(Bertrand, Duflo and Mullainathan 2004, QJE 119(1)). Standard error sqrt(s_T^2/n_T + s_C^2/n_C)
from the arms' unit-level variances of d (Welch); 95% interval with Student's t at the
Welch-Satterthwaite degrees of freedom (formula in fct_benefit_attribution.py).
  effect = estimate for a mean measure (incident times);
  effect = n_treated x estimate for a total (police estate running cost, a sum over sites).
  counterfactual_value = actual_value - effect, actual_value being the treated area's measure
  as int_benefit_measures has it (real terms at the price base year for money).
  improvement = effect, times -1 for direction 'decrease', so positive is good.
Assumes that without the bid the treated units would have changed, on average, as the comparison
units did (parallel trends); fct_benefit_attribution tests that before go-live (pre-trend and
placebo) and its verdict is carried into is_reliable here.

capital_receipts_cumulative_gbp has no counterfactual: a receipt exists only because of a
disposal, so its before/after change is its effect (the method column says so).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
TOTAL_MEASURES = {"police_estate_running_cost_gbp"}  # a sum over units; the rest are means
COMPARED_MEASURES = {
    "fire_call_handling_mean_seconds": "districts",
    "cardiac_arrest_response_mean_minutes": "districts",
    "police_estate_running_cost_gbp": "police estate sites",
}
BEFORE_AFTER_MEASURES = {
    "capital_receipts_cumulative_gbp": (
        "before/after, no counterfactual: a capital receipt exists only because of a disposal, "
        "so the receipts since the baseline year are the effect"
    ),
}


def welch(treated, comparison) -> dict:
    """Difference of the arms' means (treated - comparison) with Welch's standard error, the
    Welch-Satterthwaite degrees of freedom and the 95% Student t interval. Needs 2 values in
    each arm for a standard error (None otherwise). The same as fct_benefit_attribution.py's
    (tests/test_counterfactual.py checks they agree)."""
    t = np.asarray(treated, dtype=float)
    c = np.asarray(comparison, dtype=float)
    out = {"estimate": None, "standard_error": None, "degrees_of_freedom": None}
    out |= {"ci_low": None, "ci_high": None}
    if len(t) == 0 or len(c) == 0:
        return out
    out["estimate"] = float(t.mean() - c.mean())
    if len(t) < 2 or len(c) < 2:
        return out
    vt, vc = t.var(ddof=1) / len(t), c.var(ddof=1) / len(c)
    se = math.sqrt(vt + vc)
    out["standard_error"] = se
    if se == 0:  # every change equal within each arm (the baseline year): exact
        out["ci_low"] = out["ci_high"] = out["estimate"]
        return out
    df = (vt + vc) ** 2 / (vt**2 / (len(t) - 1) + vc**2 / (len(c) - 1))
    half = float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, df)) * se
    out["degrees_of_freedom"] = float(df)
    out["ci_low"], out["ci_high"] = out["estimate"] - half, out["estimate"] + half
    return out


def effect_of(changes: pd.DataFrame, is_total: bool) -> dict:
    """A year's effect from its units' changes (columns arm, unit_change)."""
    treated = changes.unit_change[changes.arm == "treated"]
    comparison = changes.unit_change[changes.arm == "comparison"]
    result = welch(treated, comparison)
    scale = float(len(treated)) if is_total else 1.0
    result["treated_units"], result["comparison_units"] = len(treated), len(comparison)
    for ours, theirs in (("effect", "estimate"), ("effect_ci_low", "ci_low")):
        result[ours] = None if result[theirs] is None else result[theirs] * scale
    result["effect_ci_high"] = None if result["ci_high"] is None else result["ci_high"] * scale
    return result


def signed(row: dict, direction: str) -> dict:
    """Counterfactual and improvement (positive is good) from the actual value and effect."""
    sign = -1.0 if direction == "decrease" else 1.0
    out = {}
    actual, effect = row["actual_value"], row.get("effect")
    low, high = row.get("effect_ci_low"), row.get("effect_ci_high")
    out["counterfactual_value"] = None if effect is None else actual - effect
    out["counterfactual_ci_low"] = None if high is None else actual - high
    out["counterfactual_ci_high"] = None if low is None else actual - low
    out["improvement"] = None if effect is None else sign * effect
    bounds = (None, None) if low is None else sorted((sign * low, sign * high))
    out["improvement_ci_low"], out["improvement_ci_high"] = bounds
    return out


def year_reliability(n_treated: int, n_comparison: int, checks) -> tuple[bool, str]:
    """A year's figure is reliable with 2 or more units in each arm and the benefit's
    attribution checks passed (checks: fct_benefit_attribution's is_reliable and note)."""
    notes = []
    if n_treated < 2 or n_comparison < 2:
        notes.append(
            f"fewer than 2 units in an arm this year ({n_treated} treated, "
            f"{n_comparison} comparison)"
        )
    if checks is None:
        notes.append("no attribution checks for this benefit (fct_benefit_attribution)")
    elif not checks[0]:
        notes.append(f"attribution checks: {checks[1]}")
    if notes:
        return False, "; ".join(notes)
    return True, "2 or more units in each arm, and the attribution checks pass: " + checks[1]


def _method(measure: str, baseline: str, is_total: bool) -> str:
    total = " times the number of treated sites (the effect on their total)" if is_total else ""
    return (
        f"difference in differences on {COMPARED_MEASURES[measure]}: each unit's change since "
        f"{baseline}; treated units' mean change minus comparison units' mean change{total}. "
        "Welch standard error, 95% Student t interval at Welch-Satterthwaite degrees of "
        "freedom; units are the clusters (Bertrand, Duflo and Mullainathan 2004)"
    )


def benefit_rows(benefit, actuals: pd.DataFrame, panel: pd.DataFrame, checks) -> list[dict]:
    """Every year's row of one benefit (a dim_benefits row) from its actual values by year
    (financial_year, actual_value) and its unit panel."""
    baseline = actuals.actual_value[actuals.financial_year == benefit.baseline_period]
    baseline_value = float(baseline.iloc[0]) if len(baseline) else None
    is_total = benefit.measure in TOTAL_MEASURES
    compared = benefit.measure not in BEFORE_AFTER_MEASURES
    by_year = dict(tuple(panel.groupby("financial_year"))) if compared else {}
    rows = []
    for year, actual in zip(actuals.financial_year, actuals.actual_value, strict=True):
        row = {"financial_year": year, "actual_value": actual}
        row["baseline_actual_value"] = baseline_value
        row["before_after_change"] = None if baseline_value is None else actual - baseline_value
        if not compared:
            row["effect"] = row["before_after_change"]
            row["method"] = BEFORE_AFTER_MEASURES[benefit.measure]
            row["is_reliable"] = True
            row["reliability_note"] = "no counterfactual needed: " + row["method"]
        else:
            changes = by_year.get(year, panel.iloc[0:0])
            row |= effect_of(changes, is_total)
            row["method"] = _method(benefit.measure, benefit.baseline_period, is_total)
            row["is_reliable"], row["reliability_note"] = year_reliability(
                row["treated_units"], row["comparison_units"], checks
            )
        rows.append(row | signed(row, benefit.direction))
    return rows


def actual_values(benefits: pd.DataFrame, measures: pd.DataFrame, deflators: pd.DataFrame):
    """Each benefit's treated-area measure per year from its baseline on, as realisation has
    it: money in real terms at the price base year (value per deflator point times the price
    base year's deflator)."""
    merged = benefits.reset_index().merge(
        measures,
        left_on=["measure", "measure_county", "measure_scope"],
        right_on=["measure", "county", "scope"],
    )
    merged = merged[merged.financial_year >= merged.baseline_period]
    base = deflators.set_index("financial_year").deflator_index
    in_base_prices = merged.value_per_deflator_point * merged.price_base_year.map(base)
    merged["actual_value"] = np.where(merged.unit == "gbp", in_base_prices, merged.measure_value)
    merged = merged[merged.actual_value.notna()]
    return merged.sort_values(["benefit_id", "financial_year"])


SCHEMA = {
    "benefit_id": "varchar", "bid_id": "varchar", "financial_year": "varchar",
    "measure": "varchar", "unit": "varchar", "direction": "varchar", "actual_value": "double",
    "baseline_actual_value": "double", "before_after_change": "double", "estimate": "double",
    "standard_error": "double", "degrees_of_freedom": "double", "effect": "double",
    "effect_ci_low": "double", "effect_ci_high": "double", "counterfactual_value": "double",
    "counterfactual_ci_low": "double", "counterfactual_ci_high": "double",
    "improvement": "double", "improvement_ci_low": "double", "improvement_ci_high": "double",
    "treated_units": "integer", "comparison_units": "integer", "method": "varchar",
    "is_reliable": "boolean", "reliability_note": "varchar",
}  # fmt: skip
PANDAS_TYPES = {"double": "float64", "integer": "Int64", "bigint": "Int64", "boolean": "boolean"}


def typed_relation(session, rows: list[dict], schema: dict):
    """The rows as a DuckDB relation with the schema's column types, even with no rows."""
    frame = pd.DataFrame(rows, columns=list(schema))
    frame = frame.astype({c: PANDAS_TYPES.get(t, "string") for c, t in schema.items()})
    return session.from_df(frame).project(
        ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in schema.items())
    )


def model(dbt, session):
    dbt.config(materialized="table")
    benefits = dbt.ref("dim_benefits").df().set_index("benefit_id")
    benefits = benefits[benefits.measure.isin([*COMPARED_MEASURES, *BEFORE_AFTER_MEASURES])]
    measures = dbt.ref("int_benefit_measures").df()
    deflators = dbt.ref("gdp_deflators").df()
    # In a fixed order, so sums over units come out the same to the last digit on every build.
    panel = dbt.ref("int_benefit_unit_panel").df()
    panel = panel.sort_values(["benefit_id", "unit_id", "financial_year"], ignore_index=True)
    attribution = dbt.ref("fct_benefit_attribution").df().set_index("benefit_id")
    actuals = actual_values(benefits, measures, deflators)
    panels = dict(tuple(panel.groupby("benefit_id")))
    rows = []
    for benefit_id, mine in actuals.groupby("benefit_id", sort=True):
        benefit = benefits.loc[benefit_id]
        checks = None
        if benefit_id in attribution.index:
            found = attribution.loc[benefit_id]
            checks = (bool(found.is_reliable), found.reliability_note)
        units = panels.get(benefit_id, panel.iloc[0:0])
        for row in benefit_rows(benefit, mine, units, checks):
            rows.append(
                {
                    "benefit_id": benefit_id,
                    "bid_id": benefit.bid_id,
                    "measure": benefit.measure,
                    "unit": benefit.unit,
                    "direction": benefit.direction,
                    **row,
                }
            )
    return typed_relation(session, rows, SCHEMA)
