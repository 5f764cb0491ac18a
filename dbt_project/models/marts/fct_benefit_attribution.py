"""fct_benefit_attribution: how much of the change since go-live is the collaboration's doing.

For each benefit whose measure has units to compare (the incident measures, by district; police
estate running cost, by police site: int_benefit_units says which units are treated and which
compare), over W = var('attribution_window_years') years before and after go-live
(int_benefit_unit_windows):

  Estimate. Each unit i's change d_i = (its mean after go-live) - (its mean before). The estimate
  is the mean of d over the treated units minus the mean of d over the comparison units: a
  difference in differences on units. Taking each unit's own before/after difference first
  clusters by unit: incidents in one district share that district's conditions and are not
  independent, and a unit's values from one year to the next are correlated; comparing one
  number per unit allows for both (Bertrand, Duflo and Mullainathan 2004, "How much should we
  trust differences-in-differences estimates?", QJE 119(1)). Only units with observations both
  before and after count. For a mean measure (incident times) the estimate is the effect on the
  measure; for a total (police estate running cost, the sum over sites) the effect on the total
  is n_treated x the estimate, and every figure of the row (before, after, changes, interval,
  pre-trend, placebo) is scaled by n_treated alike.
  Standard error: sqrt(s_T^2 / n_T + s_C^2 / n_C), the two arms' sample variances of d (Welch),
  so the arms may differ in spread; 95% interval estimate +- t(0.975, df) x SE with Student's t
  at the Welch-Satterthwaite degrees of freedom
      df = (s_T^2/n_T + s_C^2/n_C)^2 / ((s_T^2/n_T)^2/(n_T-1) + (s_C^2/n_C)^2/(n_C-1)).
  Assumes the units' changes are independent of each other and that, without the bid, treated
  and comparison units would have changed alike on average (parallel trends), which the checks
  below test as far as the data allow. With few units the interval leans on the changes being
  roughly normal; the permutation test does not.

  Permutation (randomisation) test: the treated label is re-assigned among all the units in the
  panel, keeping the number treated, and the estimate recomputed; p = share of assignments whose
  |estimate| is at least the observed one (two-sided). Every assignment when there are at most
  EXACT_LIMIT of them (the observed one included, so p >= 1 / assignments); otherwise DRAWS
  random re-assignments from a fixed seed (SEED with the benefit id), p = (1 + count) / (1 +
  DRAWS). It assumes only that, with no effect, any unit was as likely to be treated as another.

  Pre-trend test: each unit's least-squares slope over the before window (per year); the
  difference between the arms' mean slopes, Welch t test, two-sided p. A difference means the
  arms were already drifting apart before go-live.

  Placebo: the same estimator with a fake go-live half the before window earlier, on data from
  before the real go-live only; with no bid yet it should find nothing. Welch t test, p.

  Reliable only with at least 2 treated and 2 comparison units, enough assignments for the
  permutation test to reach p < 0.05, and a pre-trend test and a placebo that both ran and
  neither rejected at 5%; otherwise reliability_note says why.

The statistics are plain functions below (numpy, scipy.stats for Student's t), which
tests/test_counterfactual.py calls directly; `model` only shapes the rows.
"""

from __future__ import annotations

import math
import zlib
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05
EXACT_LIMIT = 5_000  # enumerate every assignment up to this many; otherwise draw DRAWS
DRAWS = 9_999
SEED = 20_040_201  # fixed, so a rebuild gives the same p-values
TOTAL_MEASURES = {"police_estate_running_cost_gbp"}  # a sum over units; the rest are means
UNIT_NAMES = {"district": "districts", "site": "police estate sites"}


def welch(treated, comparison) -> dict:
    """Difference of the arms' means (treated - comparison) with Welch's standard error, the
    Welch-Satterthwaite degrees of freedom, the 95% Student t interval and the two-sided p of
    a zero difference. Needs 2 values in each arm for a standard error (None otherwise)."""
    t = np.asarray(treated, dtype=float)
    c = np.asarray(comparison, dtype=float)
    out = {"estimate": None, "standard_error": None, "degrees_of_freedom": None}
    out |= {"ci_low": None, "ci_high": None, "p_value": None}
    if len(t) == 0 or len(c) == 0:
        return out
    out["estimate"] = float(t.mean() - c.mean())
    if len(t) < 2 or len(c) < 2:
        return out
    vt, vc = t.var(ddof=1) / len(t), c.var(ddof=1) / len(c)
    se = math.sqrt(vt + vc)
    out["standard_error"] = se
    if se == 0:  # every value equal within each arm: the difference is exact
        out["ci_low"] = out["ci_high"] = out["estimate"]
        out["p_value"] = 1.0 if out["estimate"] == 0 else 0.0
        return out
    df = (vt + vc) ** 2 / (vt**2 / (len(t) - 1) + vc**2 / (len(c) - 1))
    half = float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, df)) * se
    out["degrees_of_freedom"] = float(df)
    out["ci_low"], out["ci_high"] = out["estimate"] - half, out["estimate"] + half
    out["p_value"] = float(2 * stats.t.sf(abs(out["estimate"]) / se, df))
    return out


def assignments(n_units: int, n_treated: int) -> int:
    """Ways to choose which n_treated of n_units are treated."""
    return math.comb(n_units, n_treated)


def smallest_permutation_p(n_units: int, n_treated: int) -> float:
    """The smallest p the permutation test can give: with every assignment enumerated, 1 in
    their number (2 when the arms are the same size: swapping them gives -estimate, the same
    |estimate|); with DRAWS random ones, 1 / (1 + DRAWS)."""
    count = assignments(n_units, n_treated)
    if count > EXACT_LIMIT:
        return 1 / (1 + DRAWS)
    return (2 if 2 * n_treated == n_units else 1) / count


def permutation_test(changes, is_treated, seed_text: str = "") -> tuple[float, int, str]:
    """Two-sided randomisation p-value of the difference in mean change (treated - comparison),
    re-assigning the treated label among all the units; the number of assignments compared and
    how they were chosen."""
    d = np.asarray(changes, dtype=float)
    treated = np.asarray(is_treated, dtype=bool)
    n, k = len(d), int(treated.sum())
    observed = abs(d[treated].mean() - d[~treated].mean())
    tolerance = 1e-9 * max(1.0, observed)  # equal estimates must not differ by rounding
    count = assignments(n, k)
    if count <= EXACT_LIMIT:
        chosen = np.array(list(combinations(range(n), k)), dtype=int)
        draws, method = count, f"exact: all {count:,} ways to choose {k} treated of {n} units"
    else:
        seed = [SEED, zlib.crc32(seed_text.encode())]
        rng = np.random.default_rng(seed)
        chosen = np.argsort(rng.random((DRAWS, n)), axis=1)[:, :k]
        draws = DRAWS
        method = (
            f"random: {DRAWS:,} re-assignments of {k} treated among {n} units "
            f"(numpy default_rng seed [{SEED}, crc32('{seed_text}')]), p = (1 + count) / "
            f"(1 + {DRAWS:,})"
        )
    sums = d[chosen].sum(axis=1)
    means_t = sums / k
    means_c = (d.sum() - sums) / (n - k)
    extreme = int((np.abs(means_t - means_c) >= observed - tolerance).sum())
    if count <= EXACT_LIMIT:
        return extreme / draws, draws, method
    return (1 + extreme) / (1 + draws), draws, method


def reliability(n_treated: int, n_comparison: int, pre_trend_p, placebo_p) -> tuple[bool, str]:
    """Whether the estimate can be relied on, and why not."""
    notes = []
    if n_treated < 2 or n_comparison < 2:
        notes.append(
            f"fewer than 2 units in an arm ({n_treated} treated, {n_comparison} comparison)"
        )
    elif smallest_permutation_p(n_treated + n_comparison, n_treated) >= ALPHA:
        count = assignments(n_treated + n_comparison, n_treated)
        notes.append(
            f"only {count} ways to assign the treated label: the permutation test cannot "
            "reach p < 0.05"
        )
    if pre_trend_p is None:
        notes.append(
            "no pre-trend test (fewer than 2 units in an arm with a slope over the before window)"
        )
    elif pre_trend_p < ALPHA:
        notes.append(f"the arms' trends differed before go-live (pre-trend p = {pre_trend_p:.3f})")
    if placebo_p is None:
        notes.append("no placebo test (fewer than 2 units in an arm seen in both placebo windows)")
    elif placebo_p < ALPHA:
        notes.append(f"the placebo go-live shows an effect (placebo p = {placebo_p:.3f})")
    if notes:
        return False, "; ".join(notes)
    return True, (
        "2 or more units in each arm, the permutation test can reach p < 0.05, and neither "
        "the pre-trend test nor the placebo rejects at 5%"
    )


def _scaled(value, scale: float):
    return None if value is None else value * scale


def attribution_row(units: pd.DataFrame, benefit_id: str, is_total: bool) -> dict:
    """One benefit's figures from its units' window means (int_benefit_unit_windows rows)."""
    panel = units[(units.before_observations > 0) & (units.after_observations > 0)]
    panel = panel.assign(change=panel.after_mean - panel.before_mean)
    treated, comparison = panel[panel.arm == "treated"], panel[panel.arm == "comparison"]
    n_t, n_c = len(treated), len(comparison)
    scale = float(n_t) if is_total else 1.0
    main = welch(treated.change, comparison.change)
    row = {"treated_units": n_t, "comparison_units": n_c}
    for arm, frame in (("treated", treated), ("comparison", comparison)):
        for period in ("before", "after"):
            mean = frame[f"{period}_mean"].mean() if len(frame) else None
            row[f"{arm}_{period}"] = _scaled(mean, scale)
        row[f"{arm}_change"] = _scaled(frame.change.mean() if len(frame) else None, scale)
    row["before_after_change"] = row.pop("treated_change")
    for key in ("estimate", "standard_error", "ci_low", "ci_high"):
        row[key] = _scaled(main[key], scale)
    row["degrees_of_freedom"], row["p_value"] = main["degrees_of_freedom"], main["p_value"]
    row |= _cells(treated, comparison)
    row |= _checks(units, panel, benefit_id, scale)
    row["is_reliable"], row["reliability_note"] = reliability(
        n_t, n_c, row["pre_trend_p_value"], row["placebo_p_value"]
    )
    return row


def _cells(treated: pd.DataFrame, comparison: pd.DataFrame) -> dict:
    """Observations (incidents, or site-years) in the four arm x period cells."""
    cells = [
        f[f"{p}_observations"].sum() for f in (treated, comparison) for p in ("before", "after")
    ]
    return {"observations": int(sum(cells)), "smallest_cell": int(min(cells))}


def _checks(units: pd.DataFrame, panel: pd.DataFrame, benefit_id: str, scale: float) -> dict:
    """The permutation test, the pre-trend test and the placebo."""
    row = {"permutation_p_value": None, "permutation_assignments": None}
    row["permutation_method"] = "not run: needs a unit in each arm"
    n_t = int((panel.arm == "treated").sum())
    if 0 < n_t < len(panel):
        p, draws, method = permutation_test(panel.change, panel.arm == "treated", benefit_id)
        row |= {"permutation_p_value": p, "permutation_assignments": draws}
        row["permutation_method"] = method
    sloped = panel[panel.pre_slope_per_year.notna()]
    trend = welch(
        sloped.pre_slope_per_year[sloped.arm == "treated"],
        sloped.pre_slope_per_year[sloped.arm == "comparison"],
    )
    row["pre_trend_difference"] = _scaled(trend["estimate"], scale)
    row["pre_trend_p_value"] = trend["p_value"]
    both = (units.placebo_before_observations > 0) & (units.placebo_after_observations > 0)
    placebo = units[both]
    change = placebo.placebo_after_mean - placebo.placebo_before_mean
    fake = welch(change[placebo.arm == "treated"], change[placebo.arm == "comparison"])
    row["placebo_estimate"] = _scaled(fake["estimate"], scale)
    row["placebo_p_value"] = fake["p_value"]
    return row


def _method(unit_type: str, is_total: bool, window_years) -> dict:
    units = UNIT_NAMES.get(unit_type, unit_type)
    total = " times the number of treated sites (the effect on their total)" if is_total else ""
    return {
        "method": (
            f"difference in differences on {units}: each unit's mean in the {window_years} years "
            f"after go-live minus its mean in the {window_years} years before; treated units' "
            f"mean change minus comparison units' mean change{total}. Welch standard error, 95% "
            "Student t interval at Welch-Satterthwaite degrees of freedom; units are the "
            "clusters (Bertrand, Duflo and Mullainathan 2004)"
        ),
        "pre_trend_method": (
            "each unit's least-squares slope over the before window; treated mean slope minus "
            "comparison mean slope, per year; Welch t test, two-sided"
        ),
        "placebo_method": (
            "the same estimator with a fake go-live half the before window earlier, before-"
            "go-live data only; Welch t test, two-sided"
        ),
    }


SCHEMA = {
    "benefit_id": "varchar", "bid_id": "varchar", "measure": "varchar", "unit": "varchar",
    "go_live_date": "date", "window_start": "date", "window_end": "date",
    "treated_units": "integer", "comparison_units": "integer", "treated_before": "double",
    "treated_after": "double", "before_after_change": "double", "comparison_before": "double",
    "comparison_after": "double", "comparison_change": "double", "estimate": "double",
    "standard_error": "double", "degrees_of_freedom": "double", "ci_low": "double",
    "ci_high": "double", "p_value": "double", "method": "varchar",
    "permutation_p_value": "double", "permutation_assignments": "integer",
    "permutation_method": "varchar", "pre_trend_difference": "double",
    "pre_trend_p_value": "double", "pre_trend_method": "varchar",
    "placebo_go_live_date": "date", "placebo_estimate": "double", "placebo_p_value": "double",
    "placebo_method": "varchar", "observations": "bigint", "smallest_cell": "bigint",
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
    window_years = dbt.config.get("window_years")
    # In a fixed order: the permutation test draws units by position, so the same rows in
    # another order would give another p-value.
    windows = dbt.ref("int_benefit_unit_windows").df().sort_values(["benefit_id", "unit_id"])
    benefits = dbt.ref("dim_benefits").df().set_index("benefit_id")
    rows = []
    for benefit_id, units in windows.groupby("benefit_id", sort=True):
        if benefit_id not in benefits.index:  # a register row whose bid has not arrived
            continue
        benefit = benefits.loc[benefit_id]
        first = units.iloc[0]
        is_total = benefit.measure in TOTAL_MEASURES
        row = {
            "benefit_id": benefit_id,
            "bid_id": benefit.bid_id,
            "measure": benefit.measure,
            "unit": benefit.unit,
            **{
                column: pd.Timestamp(first[column]).date().isoformat()
                for column in ("go_live_date", "window_start", "window_end", "placebo_go_live_date")
            },
        }
        row |= attribution_row(units, benefit_id, is_total)
        row |= _method(first.unit_type, is_total, window_years)
        rows.append(row)
    return typed_relation(session, rows, SCHEMA)
