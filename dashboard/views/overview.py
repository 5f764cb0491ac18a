"""Overview: per bid, money promised against money realised, service measures on track, status,
net present value and benefit-cost ratio; totals across bids; what changed since the last load.
Each bid's figures are fct_bid_overview's; the page draws them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import queries, ui, warehouse
from dashboard.queries import overview

BIDS = ("dim_bids", "dim_benefits", "fct_benefit_realisation", "fct_bid_value")
MEASURED = ("fct_benefit_realisation",)  # a bid's value counts its cost before any benefit
AXIS_TITLES = {
    "cashable": "Cashable savings a year, pounds (real terms)",
    "non_cashable": "Non-cashable savings a year, pounds (real terms)",
    "one_off": "One-off receipts to date, pounds (real terms)",
}
NATIONAL = ("fct_police_workforce", "fct_ambulance_response_monthly", "dim_fire_stations")


def nothing_yet() -> None:
    """No bids or benefits: say which sources fill the page, and point to the National picture."""
    ui.empty_state(BIDS, "No bids or benefits registers loaded yet.")
    if ui.has_rows(NATIONAL):
        st.page_link(
            "views/national.py",
            label="Meanwhile, the National picture compares forces, ambulance trusts and fire "
            "and rescue services from the published statistics",
            icon=":material/arrow_forward:",
        )
    ui.version_caption()
    st.stop()


def nothing_measured(bids: pd.DataFrame) -> None:
    """Bids, but nothing measured against them yet: list them and say what is missing."""
    st.subheader("Each bid")
    ui.table(
        bids[["bid_id", "title", "county", "go_live_date"]].rename(
            columns={"bid_id": "Bid", "title": "Title", "county": "County", "go_live_date": "Live"}
        ),
        "bids_overview",
    )
    ui.empty_state(MEASURED, "No benefits measured against the bids yet.")
    ui.version_caption()
    st.stop()


def totals(bids: pd.DataFrame) -> None:
    pv_benefits, pv_cost = bids.pv_benefits_gbp.sum(), bids.pv_cost_gbp.sum()
    a, b, c, d, e = st.columns(5)
    a.metric(
        "Net present value, all bids",
        ui.pounds(bids.npv_gbp.sum()),
        help="Money benefits to date minus cost (award plus partners' contributions), in present "
        f"value: real terms, discounted at {queries.parameter('discount_rate'):.1%} a year "
        "(HM Treasury Green Book).",
    )
    b.metric("Benefit-cost ratio, all bids", f"{pv_benefits / pv_cost:.2f}" if pv_cost else "n/a")
    c.metric(
        "Cashable savings a year",
        ui.pounds(bids.cashable_realised_gbp.sum()),
        help="Recurring cashable savings in each benefit's latest year, against "
        f"{ui.pounds(bids.cashable_promised_gbp.sum())} a year promised (attributed shares only).",
    )
    d.metric(
        "One-off receipts to date",
        ui.pounds(bids.one_off_realised_gbp.sum()),
        help="Capital receipts and other one-off money to date, against "
        f"{ui.pounds(bids.one_off_promised_gbp.sum())} promised. Not a year's saving: never added "
        "to one.",
    )
    off = int((bids.status == "red").sum())
    slipping = int((bids.status == "amber").sum())
    e.metric(
        "Bids off track or slipping",
        f"{off + slipping} of {len(bids)}",
        help=f"{off} off track, {slipping} slipping: the worst status of each bid's benefits.",
    )
    st.caption(
        ui.price_base_note(bids.price_base_year)
        + " Savings are a year's (the latest); one-off receipts are to date, kept apart. A saving "
        "shared by two bids counts once, split by each bid's attribution share."
    )


def has_non_cashable(bids: pd.DataFrame) -> bool:
    return bool(bids.non_cashable_promised_gbp.any() or bids.non_cashable_realised_gbp.any())


def each_bid(bids: pd.DataFrame) -> None:
    columns = {
        "Bid": bids.bid_id,
        "Status": bids.status.map(ui.status_text),
        "Cashable a year promised": bids.cashable_promised_gbp.round(0),
        "Cashable a year realised": bids.cashable_realised_gbp.round(0),
        "One-off promised": bids.one_off_promised_gbp.round(0),
        "One-off realised to date": bids.one_off_realised_gbp.round(0),
    }
    if has_non_cashable(bids):
        columns["Non-cashable a year promised"] = bids.non_cashable_promised_gbp.round(0)
        columns["Non-cashable a year realised"] = bids.non_cashable_realised_gbp.round(0)
    columns |= {
        "Service on track": [
            f"{on:.0f} of {n:.0f}" if pd.notna(n) and n else "none"
            for on, n in zip(bids.service_measures_on_track, bids.service_measures, strict=True)
        ],
        "NPV": bids.npv_gbp.round(0),
        "BCR": bids.benefit_cost_ratio.round(2),
        "Paid back": bids.payback_year.fillna("not yet"),
    }
    table = pd.DataFrame(columns)
    st.subheader("Each bid")
    ui.table(
        table,
        "bids_overview",
        money=tuple(c for c in table.columns if "promised" in c or "realised" in c or c == "NPV"),
        column_config={
            "BCR": st.column_config.NumberColumn(format="%.2f", help="Benefit-cost ratio"),
            "Service on track": st.column_config.TextColumn(
                help="Service measures (response times) at or above "
                f"{queries.parameter('rag_green_threshold'):.0%} of their profiled target"
            ),
        },
    )
    years = ", ".join(sorted(set(bids.latest_year.dropna())))
    st.caption(
        f"Status: the worst of the bid's benefits in their latest year ({years}). "
        "Realised: the latest year's; promised: the register's target, the bid's attributed share."
    )


def promised_and_realised(bids: pd.DataFrame) -> None:
    st.subheader("Money promised and realised")
    kinds = ("cashable", "non_cashable") if has_non_cashable(bids) else ("cashable",)
    for kind in (*kinds, "one_off"):
        frame = pd.DataFrame(
            {
                "bid_id": bids.bid_id,
                "bid": bids.bid_id + " " + bids.title,
                "promised_gbp": bids[f"{kind}_promised_gbp"],
                "realised_gbp": bids[f"{kind}_realised_gbp"],
            }
        )
        frame = frame[(frame.promised_gbp != 0) | (frame.realised_gbp != 0)]
        if not frame.empty:
            ui.chart(bullet_chart(frame, kind), frame, f"{kind}_promised_realised")
    st.caption(
        "Wide pale bar: promised. Narrow dark bar: realised, a year's savings in the latest year, "
        "one-off receipts to date."
    )


def bullet_chart(frame: pd.DataFrame, kind: str) -> alt.LayerChart:
    """The promise as a wide pale bar, what is realised as a narrow bar on it."""
    base = alt.Chart(frame).encode(
        y=alt.Y("bid:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[
            "bid",
            alt.Tooltip("promised_gbp:Q", format=",.0f", title="promised (£)"),
            alt.Tooltip("realised_gbp:Q", format=",.0f", title="realised (£)"),
        ],
    )
    promised = base.mark_bar(size=26, color=ui.OKABE_ITO["sky_blue"], opacity=0.6).encode(
        x=alt.X(
            "promised_gbp:Q",
            title=AXIS_TITLES[kind],
            axis=alt.Axis(format="~s"),
        )
    )
    realised = base.mark_bar(size=10, color=ui.OKABE_ITO["blue"]).encode(x="realised_gbp:Q")
    return (promised + realised).properties(height=60 + 40 * len(frame))


def last_load() -> None:
    st.subheader("What changed since the last load")
    shown = queries.published_version()
    run_id = shown.run_id[0] if not shown.empty else None
    run = overview.load_run(run_id) if run_id else pd.DataFrame()
    if not run.empty:
        r = run.iloc[0]
        st.markdown(
            f"The last load (run {run_id}, {r.finished_at:%d %b %Y %H:%M}) loaded "
            f"**{r.files_loaded} files** ({r.rows_loaded:,} rows), skipped {r.files_skipped} "
            f"already loaded, refused {r.files_rejected} and set aside {r.rows_quarantined:,} "
            f"{'row' if r.rows_quarantined == 1 else 'rows'} (see Data health)."
        )


def changes_since(bids: pd.DataFrame) -> None:
    """Each benefit's status, figure or year and each bid's value against the version before."""
    previous = warehouse.previous_version()
    if previous is None:
        st.info("This is the first kept version of the warehouse: nothing earlier to compare with.")
        return
    before = overview.benefit_statuses(path=previous)
    both = overview.benefit_statuses().merge(
        before, on="benefit_id", how="outer", suffixes=("", "_before")
    )
    changed = both[
        (both.status != both.status_before)
        | (both.financial_year != both.financial_year_before)
        | ((both.actual_value - both.actual_value_before).abs() > 1e-6)
    ]
    value_before = overview.bid_npv(path=previous).set_index("bid_id")
    npv_moves = [
        (bid, value_before.npv_gbp.get(bid), npv)
        for bid, npv in zip(bids.bid_id, bids.npv_gbp, strict=True)
        if bid not in value_before.index or abs(value_before.npv_gbp.get(bid) - npv) > 0.5
    ]
    st.caption(
        f"Compared with the version published before it ({previous.name}, kept in "
        "warehouse/versions/)."
    )
    if changed.empty and not npv_moves:
        st.success("No benefit's status, figure or year and no bid's value changed.")
    for row in changed.itertuples():
        st.markdown(benefit_change(row))
    for bid, npv_before, npv in npv_moves:
        was = "new" if npv_before is None else ui.pounds(npv_before)
        st.markdown(f"- **{bid}** net present value: {was} → **{ui.pounds(npv)}**")


def benefit_change(row) -> str:
    """A benefit's change between two versions, as a Markdown list item."""
    if pd.isna(row.status_before):
        return f"- **{row.benefit_id}** ({row.bid_id}) is new: {ui.status_text(row.status)}"
    if pd.isna(row.status):
        return f"- **{row.benefit_id}** is no longer in the register"
    return (
        f"- **{row.benefit_id}** ({row.bid_id}, {row.financial_year}): "
        f"{ui.status_text(row.status_before)} → **{ui.status_text(row.status)}**; actual "
        f"{ui.value_in_unit(row.actual_value_before, row.unit)} → "
        f"{ui.value_in_unit(row.actual_value, row.unit)}"
    )


st.title("Are our collaborations delivering what their bids promised?")
if not ui.has_rows(BIDS):
    nothing_yet()
area = ui.area_filter()
ui.filters_note()

bids = overview.bid_overview(area)
if bids.empty:
    st.info("No bids in this area.")
    st.stop()
if not ui.has_rows(MEASURED):
    nothing_measured(bids)
totals(bids)
each_bid(bids)
promised_and_realised(bids)
last_load()
changes_since(bids)
ui.version_caption()
