"""A money benefit on the Bid page, from the register's baseline to the bid's attributed saving,
step by step, so the Overview's figure is the last line; which other bids claim a share of the
same measured change; and a financial year in progress, shown as such and never judged. Every
figure is fct_benefit_realisation's, fct_measure_attribution's or the register's: the page
names the steps, it does not work them out."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.method import link

# The kinds of money the Overview shows apart (fct_bid_overview's column stems), in words.
MONEY_KINDS = {
    "cashable": "Cashable, a year",
    "non_cashable": "Non-cashable, a year",
    "one_off": "One-off, to date",
}
# The Overview's kind each money benefit adds to, by its category and recurrence.
OVERVIEW_COLUMN = {
    ("cashable", "recurring"): MONEY_KINDS["cashable"],
    ("non_cashable", "recurring"): MONEY_KINDS["non_cashable"],
    ("cashable", "one_off"): MONEY_KINDS["one_off"],
    ("non_cashable", "one_off"): MONEY_KINDS["one_off"],
}
# What an observation of a measure is, by its unit: incidents for times, site returns for money.
OBSERVED = {"seconds": "incident", "minutes": "incident", "gbp": "site return"}


def overview_column(row) -> str | None:
    """The Overview's kind of money a benefit adds to; None for a benefit that is not money."""
    return OVERVIEW_COLUMN.get((row.category, row.recurrence)) if row.unit == "gbp" else None


def is_money(row) -> bool:
    return overview_column(row) is not None


def confirmed(row) -> str:
    """What the counterfactual row adds when the estimate's checks could not confirm it."""
    reliable = row.is_estimate_reliable
    if row.improvement_basis == "counterfactual" and pd.notna(reliable) and not reliable:
        return "; **not confirmed**: its checks could not be run or failed, see below"
    return ""


def steps(row, parts: int) -> str:
    """The Markdown table of a money benefit's steps in its latest complete year, in order:
    baseline, without the bid (or why there is no such estimate), actual, the saving, the bid's
    share and its attributed saving, which the Overview shows (`parts`: how many of the bid's
    money benefits, this one among them, the Overview adds into that figure)."""
    against_counterfactual = row.improvement_basis == "counterfactual"
    gain = "Saving" if row.direction == "decrease" else "Money gained"
    before, after = (
        ("without the bid", "actual") if against_counterfactual else ("baseline", "actual")
    )
    if row.direction != "decrease":
        before, after = after, before
    without = (
        ui.pounds(row.counterfactual_value)
        if against_counterfactual
        else "not estimated (see below)"
    )
    overview = f"the Overview's realised, *{overview_column(row)}*"
    if parts > 1:
        overview = f"one of {parts} parts of {overview}"
    lines = [
        f"| {row.benefit_id}, {row.financial_year} | £ at {row.price_base_year} prices |",
        "|:--|--:|",
        f"| Baseline ({row.baseline_period}, the register's) | {ui.pounds(row.baseline_value)} |",
        f"| Without the bid (counterfactual{confirmed(row)}) | {without} |",
        f"| Actual | {ui.pounds(row.actual_value)} |",
        f"| {gain}: {before} − {after} | {ui.pounds(row.improvement)} |",
        f"| × this bid's attribution share | {ui.share(row.attribution_share)} |",
        f"| = **the bid's attributed saving**: {overview} | "
        f"**{ui.pounds(row.attributed_improvement)}** |",
    ]
    return "\n".join(lines)


def shared(row, sharing: pd.DataFrame) -> None:
    """Name the other bids that claim a share of the same measured change, if any."""
    others = sharing[sharing.benefit_id == row.benefit_id]
    if others.empty:
        return
    names = "; ".join(
        f"**{ui.bid_name(o.other_bid_id, o.other_title)}** ({o.other_benefit_id}, "
        f"{ui.share(o.other_share)})"
        for o in others.itertuples()
    )
    one = others.other_bid_id.nunique() == 1
    st.info(
        f"**Shared with {'another bid' if one else 'other bids'}.** {names} "
        f"{'claims' if one else 'claim'} a share of the same measured change; "
        f"this bid claims {ui.share(row.attribution_share)} "
        f"({ui.share(others.total_attribution_share.iloc[0])} in all). The change counts once: "
        "each bid shows its own share. " + link("attribution-shares", "Method")
    )


def year_to_date(row, in_progress: pd.DataFrame) -> None:
    """A benefit's financial year in progress, with its observations so far: never judged."""
    for year in in_progress[in_progress.benefit_id == row.benefit_id].itertuples():
        n = 0 if pd.isna(year.observations) else int(year.observations)
        what = OBSERVED.get(year.unit, "observation")
        through = (
            f", data to {year.data_through_date:%d %b %Y}"
            if pd.notna(year.data_through_date)
            else ""
        )
        st.markdown(
            f"{ui.STATUS_MARK['year_to_date']} **{year.financial_year} year to date: {n:,} "
            f"{what}{'' if n == 1 else 's'}**{through}; actual so far "
            f"{ui.value_in_unit(year.actual_value, year.unit)}. Not judged until the year is "
            "complete."
        )
