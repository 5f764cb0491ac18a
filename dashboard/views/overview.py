"""Overview: per bid, by id and title, money promised against money realised, service measures on
track, status, any year to date, net present value and benefit-cost ratio; totals across bids;
the savings bids share, each bid counting its own share; what changed since the last load. A
county with no bids of its own is named as the comparison area of the bids that use it. Each
bid's figures are fct_bid_overview's; the page draws them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui, warehouse
from dashboard.bid.saving import MONEY_KINDS
from dashboard.method import link
from dashboard.queries import overview

BIDS = ("dim_bids", "dim_benefits", "fct_benefit_realisation", "fct_bid_value")
MEASURED = ("fct_benefit_realisation",)  # a bid's value counts its cost before any benefit
AXIS_TITLES = {
    "cashable": "Cashable savings a year, pounds (real terms)",
    "non_cashable": "Non-cashable savings a year, pounds (real terms)",
    "one_off": "One-off receipts to date, pounds (real terms)",
}
YEAR_TO_DATE = "Year to date, not judged"
PROMISED, REALISED = ui.SERIES_COLOURS[2], ui.SERIES_COLOURS[3]  # sky blue, black: not a service
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


def no_bids_here(area: str) -> None:
    """An area with no bids of its own: name the bids it is the comparison area for, if any."""
    compared = queries.compared_against(area)
    if compared.empty:
        st.info("No bids in this area.")
    else:
        bids = compared.drop_duplicates("bid_id")
        names = "\n".join(
            f"- **{ui.bid_name(b.bid_id, b.title)}**: "
            + "; ".join(
                f"{c.benefit_id} {c.description.lower()}"
                for c in compared[compared.bid_id == b.bid_id].itertuples()
            )
            for b in bids.itertuples()
        )
        st.info(
            f"**{area} is the comparison area.** It has no bids of its own: what changed here "
            f"is what each of these bids' benefits is measured against (what would have happened "
            f"without the bid):\n\n{names}\n\nTheir figures are on the Overview with every area "
            "chosen, and on the Bid page."
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
    a, b, c = st.columns(3)
    a.metric(
        "Net present value, all bids",
        ui.pounds(bids.npv_gbp.sum()),
        help="Money benefits to date minus cost (award plus partners' contributions), in present "
        f"value: real terms, discounted at {queries.parameter('discount_rate'):.1%} a year "
        "(HM Treasury Green Book).",
    )
    b.metric("Benefit-cost ratio, all bids", f"{pv_benefits / pv_cost:.2f}" if pv_cost else "n/a")
    off, slipping = int((bids.status == "red").sum()), int((bids.status == "amber").sum())
    too_little = int((bids.status == "too_little_data").sum())
    c.metric(
        "Bids off track or slipping",
        f"{off + slipping} of {len(bids)}",
        help=f"{off} off track, {slipping} slipping"
        + (f", {too_little} with too little data to judge" if too_little else "")
        + ": the worst status of each bid's benefits in their latest complete year.",
    )
    d, e, _ = st.columns(3)
    d.metric(
        "Cashable savings a year",
        ui.pounds(bids.cashable_realised_gbp.sum()),
        help="Recurring cashable savings in each benefit's latest complete year, against "
        f"{ui.pounds(bids.cashable_promised_gbp.sum())} a year promised (attributed shares only).",
    )
    e.metric(
        "One-off receipts to date",
        ui.pounds(bids.one_off_realised_gbp.sum()),
        help="Capital receipts and other one-off money to date, against "
        f"{ui.pounds(bids.one_off_promised_gbp.sum())} promised. Not a year's saving: never added "
        "to one.",
    )
    st.caption(
        ui.price_base_note(bids.price_base_year)
        + " Savings are a year's (the latest complete year); one-off receipts are to date, kept "
        "apart. A saving shared by two bids counts once, split by each bid's attribution share."
    )


def has_non_cashable(bids: pd.DataFrame) -> bool:
    return bool(bids.non_cashable_promised_gbp.any() or bids.non_cashable_realised_gbp.any())


def service_on_track(on, n) -> str:
    return f"{on:.0f} of {n:.0f}" if pd.notna(n) and n else "no service measures"


def year_to_date(year, observations) -> str:
    """A bid's financial year in progress, never judged: its incidents so far."""
    if not isinstance(year, str):
        return ""
    if pd.isna(observations):
        return year
    return f"{year}: {observations:,.0f} incident{'' if observations == 1 else 's'}"


def each_bid(bids: pd.DataFrame) -> None:
    """Each bid by id and title: its status, service measures on track, any year to date, and
    its value."""
    columns = {
        "Bid": bids.bid_id,
        "Title": bids.title,
        "Status": bids.status.map(ui.status_text),
        "Service on track": [
            service_on_track(on, n)
            for on, n in zip(bids.service_measures_on_track, bids.service_measures, strict=True)
        ],
    }
    if bids.year_to_date.notna().any():
        columns[YEAR_TO_DATE] = [
            year_to_date(y, n)
            for y, n in zip(bids.year_to_date, bids.year_to_date_observations, strict=True)
        ]
    columns |= {
        "NPV": bids.npv_gbp.round(0),
        "BCR": bids.benefit_cost_ratio.round(2),
        "Paid back": bids.payback_year.fillna("not yet"),
    }
    table = pd.DataFrame(columns)
    st.subheader("Each bid")
    ui.table(
        table,
        "bids_overview",
        money=("NPV",),
        column_config={
            "Title": st.column_config.TextColumn(width=290),
            "BCR": st.column_config.NumberColumn(format="%.2f", help="Benefit-cost ratio"),
            "Service on track": st.column_config.TextColumn(
                help="Service measures (response times) at or above "
                f"{queries.parameter('rag_green_threshold'):.0%} of their profiled target"
            ),
        },
    )
    years = ", ".join(sorted(set(bids.latest_year.dropna())))
    st.caption(
        f"Status: the worst of the bid's benefits in their latest complete year ({years})."
        + (
            " Year to date: a financial year in progress, never judged until it is complete."
            if YEAR_TO_DATE in table.columns
            else ""
        )
        + " NPV: net present value to date; BCR: benefit-cost ratio."
    )


def money_table(bids: pd.DataFrame) -> None:
    """Each bid's money promised and realised, a row per kind it has (a bid with none says so)."""
    rows = []
    for b in bids.itertuples():
        for kind, words in MONEY_KINDS.items():
            promised, realised = (
                getattr(b, f"{kind}_promised_gbp"),
                getattr(b, f"{kind}_realised_gbp"),
            )
            if promised or realised:
                rows.append((b.bid_id, b.title, words, promised, realised))
    table = pd.DataFrame(rows, columns=["Bid", "Title", "Money", "Promised", "Realised"])
    table = table.round({"Promised": 0, "Realised": 0})
    ui.table(
        table,
        "bids_money",
        money=("Promised", "Realised"),
        column_config={"Title": st.column_config.TextColumn(width=290)},
    )
    shown = set(table.Bid)
    none = [
        ui.bid_name(b, t) for b, t in zip(bids.bid_id, bids.title, strict=True) if b not in shown
    ]
    st.caption(
        "Realised: in the latest complete year, the bid's attributed share of each saving (the "
        "Bid page shows each step from baseline to share); promised: the register's target, the "
        "same share." + (f" No money benefits: {'; '.join(none)}." if none else "")
    )
    unreliable(bids)


def unreliable(bids: pd.DataFrame) -> None:
    """Name the bids whose figures rest on an estimate its checks could not confirm."""
    resting = bids[bids.benefits_on_unreliable_estimates > 0]
    if resting.empty:
        return
    names = "; ".join(
        f"{ui.bid_name(b.bid_id, b.title)} ({b.benefits_on_unreliable_estimates:.0f} "
        f"benefit{'' if b.benefits_on_unreliable_estimates == 1 else 's'})"
        for b in resting.itertuples()
    )
    st.warning(
        "**Resting on an estimate not confirmed.** These bids' status and realised figures use "
        "an effect estimated against comparison areas whose checks could not confirm it (too few "
        f"areas for the pre-trend or placebo test, or a test failed): {names}. The Bid page says "
        "which check, for each benefit. " + link("counterfactual-and-attribution", "Method")
    )


def shared_savings(area: str | None) -> None:
    """The savings more than one bid claims a share of, each bid named with its share."""
    shared = overview.shared_savings(area)
    if shared.empty:
        return
    lines = []
    for (measure, county, scope), claims in shared.groupby(
        ["measure", "measure_county", "measure_scope"], sort=False
    ):
        where = county + ("" if scope == "all" else f", {scope} districts")
        bids = "; ".join(
            f"**{ui.bid_name(c.bid_id, c.title)}** {ui.share(c.attribution_share)}"
            for c in claims.itertuples()
        )
        lines.append(
            f"- {measure_name(measure)} ({where}): {bids} "
            f"({ui.share(claims.total_attribution_share.iloc[0])} in all)"
        )
    st.markdown(
        "**Savings bids share.** One measured change, claimed in shares: each bid's realised "
        "figure above is its own share, so the change counts once.\n" + "\n".join(lines)
    )


def measure_name(measure: str) -> str:
    """A measure's code in words: police_estate_running_cost_gbp -> police estate running cost."""
    for unit in ("_gbp", "_seconds", "_minutes"):
        measure = measure.removesuffix(unit)
    words = measure.replace("_", " ")
    return words[:1].upper() + words[1:]


def promised_and_realised(bids: pd.DataFrame, area: str | None) -> None:
    st.subheader("Money promised and realised")
    money_table(bids)
    shared_savings(area)
    kinds = ("cashable", "non_cashable") if has_non_cashable(bids) else ("cashable",)
    for kind in (*kinds, "one_off"):
        frame = pd.DataFrame(
            {
                "bid_id": bids.bid_id,
                "bid": [ui.bid_name(b, t) for b, t in zip(bids.bid_id, bids.title, strict=True)],
                "promised_gbp": bids[f"{kind}_promised_gbp"],
                "realised_gbp": bids[f"{kind}_realised_gbp"],
            }
        )
        frame = frame[(frame.promised_gbp != 0) | (frame.realised_gbp != 0)]
        if not frame.empty:
            ui.chart(bullet_chart(frame, kind), frame, f"{kind}_promised_realised")
    st.caption(
        "Wide pale bar: promised. Narrow black bar: realised, a year's savings in the latest "
        "complete year, one-off receipts to date. Each axis starts at £0."
    )


def bullet_chart(frame: pd.DataFrame, kind: str) -> alt.LayerChart:
    """The promise as a wide pale bar, what is realised as a narrow bar on it."""
    base = alt.Chart(frame).encode(
        y=alt.Y("bid:N", title=None, sort=None, axis=alt.Axis(labelLimit=420)),
        tooltip=[
            "bid",
            alt.Tooltip("promised_gbp:Q", format=",.0f", title="promised (£)"),
            alt.Tooltip("realised_gbp:Q", format=",.0f", title="realised (£)"),
        ],
    )
    promised = base.mark_bar(size=26, color=PROMISED, opacity=0.6).encode(
        x=alt.X(
            "promised_gbp:Q",
            title=AXIS_TITLES[kind],
            axis=alt.Axis(format="~s"),
            scale=charts.from_zero(),
        )
    )
    realised = base.mark_bar(size=10, color=REALISED).encode(x="realised_gbp:Q")
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
        (ui.bid_name(bid, title), value_before.npv_gbp.get(bid), npv)
        for bid, title, npv in zip(bids.bid_id, bids.title, bids.npv_gbp, strict=True)
        if bid not in value_before.index or abs(value_before.npv_gbp.get(bid) - npv) > 0.5
    ]
    st.caption(f"Compared with the version published before it ({warehouse.kept_as(previous)}).")
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
        bid = ui.bid_name(row.bid_id, row.title)
        return f"- **{row.benefit_id}** ({bid}) is new: {ui.status_text(row.status)}"
    if pd.isna(row.status):
        bid = ui.bid_name(row.bid_id_before, row.title_before)
        return f"- **{row.benefit_id}** ({bid}) is no longer in the register"
    return (
        f"- **{row.benefit_id}** ({ui.bid_name(row.bid_id, row.title)}, {row.financial_year}): "
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
    no_bids_here(area)
if not ui.has_rows(MEASURED):
    nothing_measured(bids)
totals(bids)
each_bid(bids)
promised_and_realised(bids, area)
last_load()
changes_since(bids)
ui.version_caption()
