"""Pages that reconcile and charts a reader can trust, on the demo warehouse built by a real night
(the `demo_home` fixture).

The Bid page of a bid whose cashable saving another bid shares walks from the register's
baseline to the bid's attributed saving, and that last step is the Overview's figure; the other
bid is named; bids carry their titles; a county with no bids is named as the comparison area.
Every value axis of money and counts starts at zero; a colour means one service or one role on
every page. Expected figures come from the marts, read here with DuckDB; the page's come from the
page, through Streamlit's AppTest or the served page in headless Chromium.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    ARTIFACTS,
    chromium_or_skip,
    open_published,
    run_flow,
    served_page,
)
from handmade import fire_incident, write_rows
from streamlit.testing.v1 import AppTest

from dashboard import charts, ui

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
SHARED_BID, OTHER_BID = "PIF-2014-NM01", "PIF-2014-NM02"
STEPS = [
    "Baseline",
    "Without the bid",
    "Actual",
    "Saving",
    "× this bid's attribution share",
    "= **the bid's attributed saving**",
]


def _app(home: Path, monkeypatch, **filters) -> AppTest:
    import streamlit as st

    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    st.cache_data.clear()  # the cache outlives a test in one process
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    for name, value in filters.items():
        at.session_state[f"filter.{name}"] = value
    return at


def _page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception[0].value
    return at


def _text(elements) -> str:
    return "\n".join(e.value for e in elements)


def _shared_benefit(home: Path) -> pd.Series:
    """The latest complete year of SHARED_BID's cashable, recurring benefit on a measure another
    bid shares, with the register's baseline year, from the marts."""
    with open_published(home) as con:
        complete = {
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_name = 'fct_benefit_realisation'"
            ).fetchall()
        }
        judged = "and r.is_complete_period" if "is_complete_period" in complete else ""
        rows = con.execute(
            f"""
            select r.*, b.baseline_period, m.bid_ids
            from marts.fct_benefit_realisation as r
            inner join marts.dim_benefits as b using (benefit_id)
            inner join marts.fct_measure_attribution as m
                on b.measure = m.measure and b.measure_county = m.measure_county
                and b.measure_scope = m.measure_scope
            where r.bid_id = ? and r.category = 'cashable' and r.recurrence = 'recurring'
              and m.bid_ids like '%,%' {judged}
            qualify row_number() over (partition by r.benefit_id order by r.financial_year desc)
                = 1
            """,
            [SHARED_BID],
        ).df()
    assert len(rows) == 1, rows  # the demo's NM01 shares its estate saving with NM02
    return rows.iloc[0]


def _steps(at: AppTest, benefit_id: str) -> list[tuple[str, str]]:
    """The rows of a benefit's steps table on the Bid page: (label, value)."""
    table = next(m.value for m in at.markdown if m.value.startswith(f"| {benefit_id}, "))
    rows = [line.strip("|").split(" | ") for line in table.splitlines()[2:]]
    return [(label.strip(), value.strip()) for label, value in rows]


# ---------------------------------------------------------------- pages that reconcile


def test_the_bid_page_walks_to_the_overview_figure(demo_home, monkeypatch):
    expected = _shared_benefit(demo_home)
    with open_published(demo_home) as con:
        overview_figure = con.execute(
            "select cashable_realised_gbp from marts.fct_bid_overview where bid_id = ?",
            [SHARED_BID],
        ).fetchone()[0]
        titles = dict(con.execute("select bid_id, title from marts.dim_bids").fetchall())
        other = con.execute(
            "select benefit_id, attribution_share from marts.dim_benefits where bid_id = ? "
            "and measure = (select measure from marts.dim_benefits where benefit_id = ?)",
            [OTHER_BID, expected.benefit_id],
        ).fetchone()
    # The bid's saving is its share of the one saving: 20% of 1,183,637 is 236,727 (scale 0.1).
    assert expected.attributed_improvement == pytest.approx(
        expected.improvement * expected.attribution_share
    )
    assert expected.attributed_improvement == pytest.approx(overview_figure)

    at = _page(_app(demo_home, monkeypatch), "overview")
    money = at.dataframe[1].value.set_index(["Bid", "Money"])
    shown_on_overview = money.loc[(SHARED_BID, "Cashable, a year"), "Realised"]
    assert shown_on_overview == round(overview_figure)

    _page(at, "bid")
    at.sidebar.selectbox(key="filter_widget.bid").set_value(SHARED_BID).run()
    assert not at.exception
    steps = _steps(at, expected.benefit_id)
    assert [label for label, _ in steps] == [
        next(label for label, _ in steps if label.startswith(s)) for s in STEPS
    ]  # each step, in that order
    assert [label.split(":")[0].split(" (")[0] for label, _ in steps] == [
        "Baseline",
        "Without the bid",
        "Actual",
        "Saving",
        "× this bid's attribution share",
        "= **the bid's attributed saving**",
    ]
    assert steps[0][0] == f"Baseline ({expected.baseline_period}, the register's)"
    assert [value for _, value in steps] == [
        ui.pounds(expected.baseline_value),
        ui.pounds(expected.counterfactual_value),
        ui.pounds(expected.actual_value),
        ui.pounds(expected.improvement),
        f"{expected.attribution_share:.0%}",
        f"**{ui.pounds(expected.attributed_improvement)}**",
    ]
    assert steps[3][0] == "Saving: without the bid − actual"  # estate cost: a decrease
    assert "the Overview's realised, *Cashable, a year*" in steps[-1][0]
    # The page's last step is the Overview's figure, read off both pages.
    assert steps[-1][1] == f"**{ui.pounds(shown_on_overview)}**"

    shared = next(i.value for i in at.info if i.value.startswith("**Shared with another bid.**"))
    assert f"**{OTHER_BID}: {titles[OTHER_BID]}** ({other[0]}, {other[1]:.0%})" in shared
    assert f"this bid claims {expected.attribution_share:.0%} (100% in all)" in shared


def test_bids_are_named_with_their_titles_and_each_benefit_with_its_evidence(
    demo_home, monkeypatch
):
    with open_published(demo_home) as con:
        titles = dict(con.execute("select bid_id, title from marts.dim_bids").fetchall())
        no_service = {
            b
            for (b,) in con.execute(
                "select bid_id from marts.fct_bid_overview where service_measures = 0"
            ).fetchall()
        }
        evidence = con.execute(
            "select benefit_id, evidence_source, confidence from marts.dim_benefits "
            "where bid_id = ? order by benefit_id",
            [SHARED_BID],
        ).fetchall()
    assert no_service == {OTHER_BID}

    at = _page(_app(demo_home, monkeypatch), "overview")
    table = at.dataframe[0].value.set_index("Bid")
    assert table.Title.to_dict() == titles
    assert table.loc[OTHER_BID, "Service on track"] == "no service measures"
    shares = _text(at.markdown)
    assert f"**{SHARED_BID}: {titles[SHARED_BID]}** 20%" in shares
    assert f"**{OTHER_BID}: {titles[OTHER_BID]}** 80% (100% in all)" in shares

    _page(at, "bid")
    options = at.sidebar.selectbox(key="filter_widget.bid").options
    assert options == [f"{b}: {t}" for b, t in titles.items()]
    assert at.title[0].value == f"{SHARED_BID}: {titles[SHARED_BID]}"
    captions = _text(at.caption)
    assert len(evidence) == 2
    for _benefit, source, confidence in evidence:
        assert f"Evidence: {source}; confidence: {confidence} (the register's)." in captions


def test_figures_resting_on_an_unconfirmed_estimate_say_so(demo_home, monkeypatch):
    """The demo's closed police sites (B-NM01-02) and its rural co-responding (B-NM03-01) have
    too few areas with a slope before go-live for the pre-trend and placebo checks: their
    estimates are flagged not reliable, and both pages say the figures rest on them."""
    with open_published(demo_home) as con:
        counts = dict(
            con.execute(
                "select bid_id, benefits_on_unreliable_estimates from marts.fct_bid_overview"
            ).fetchall()
        )
    assert counts == {SHARED_BID: 1, OTHER_BID: 0, "PIF-2016-NM03": 1}
    at = _page(_app(demo_home, monkeypatch), "overview")
    warning = _text(at.warning)
    assert "**Resting on an estimate not confirmed.**" in warning
    assert f"{SHARED_BID}: Northmoor Joint Police and Fire Control Room (1 benefit)" in warning
    assert OTHER_BID not in warning
    _page(at, "bid")
    at.sidebar.selectbox(key="filter_widget.bid").set_value(SHARED_BID).run()
    assert "| Without the bid (counterfactual; **not confirmed**: its checks" in _text(at.markdown)


def test_a_county_without_bids_is_named_the_comparison_area(demo_home, monkeypatch):
    with open_published(demo_home) as con:
        compared = con.execute(
            """
            select distinct bids.bid_id, bids.title
            from intermediate.int_benefit_units as units
            inner join marts.dim_benefits as benefits using (benefit_id)
            inner join marts.dim_bids as bids on benefits.bid_id = bids.bid_id
            where units.arm = 'comparison' and units.county = 'Southvale'
            order by 1
            """
        ).fetchall()
    assert len(compared) == 3  # every demo bid is measured against Southvale

    at = _page(_app(demo_home, monkeypatch, area="Southvale"), "overview")
    (info,) = [i.value for i in at.info]
    assert info.startswith("**Southvale is the comparison area.** It has no bids of its own")
    for bid_id, title in compared:
        assert f"- **{bid_id}: {title}**: " in info
    _page(at, "bid")
    (info,) = [i.value for i in at.info]
    assert info.startswith("No bids in this area. Southvale is the comparison area for ")
    assert "; ".join(f"{b}: {t}" for b, t in compared) in info


# ---------------------------------------------------------------- a year in progress


@pytest.fixture
def year_to_date_home(demo_home, tmp_path):
    """A copy of the demo's data directory after one more real night: a single Northmoor fire
    incident on 2 April 2026 (call handled in 60 s), the first of the 2026-27 financial year.
    Returns the home and B-NM01-01's 2025-26 status before that night."""
    home = shutil.copytree(demo_home, tmp_path / "home", symlinks=True)
    incident = fire_incident(1, "X07000101", datetime(2026, 4, 2, 9), 60, 420)
    write_rows(home / "inbox" / "incidents" / "april.csv", "incidents", [incident])
    with open_published(demo_home) as con:
        before = con.execute(
            "select status from marts.fct_benefit_realisation "
            "where benefit_id = 'B-NM01-01' and financial_year = '2025-26'"
        ).fetchone()[0]
    assert run_flow(home)["status"] == "succeeded"
    return home, before


def test_a_year_in_progress_is_shown_as_such_and_never_judged(year_to_date_home, monkeypatch):
    home, before = year_to_date_home
    at = _page(_app(home, monkeypatch), "overview")
    table = at.dataframe[0].value.set_index("Bid")
    assert table.loc[SHARED_BID, "Year to date, not judged"] == "2026-27: 1 incident"
    assert table.loc["PIF-2016-NM03", "Status"] == "◇ Too little data"
    assert "Year to date: a financial year in progress, never judged" in _text(at.caption)

    _page(at, "bid")
    at.sidebar.selectbox(key="filter_widget.bid").set_value(SHARED_BID).run()
    metrics = [(m.label, m.value) for m in at.metric]
    # The status stays the latest complete year's; 2026-27 is shown, not judged.
    assert ("Status 2025-26", ui.status_text(before)) in metrics
    assert not [label for label, _ in metrics if "2026-27" in label]
    assert (
        "◔ **2026-27 year to date: 1 incident**, data to 02 Apr 2026; actual so far 60.0 s. "
        "Not judged until the year is complete." in _text(at.markdown)
    )
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    profiles = [
        convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data)
        for chart in at.get("vega_lite_chart")
    ]
    years = {y for p in profiles if "financial_year" in p.columns for y in p.financial_year}
    assert "2025-26" in years and "2026-27" not in years  # the profile draws complete years


# ---------------------------------------------------------------- charts a reader trusts


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _layers(spec: dict):
    """A chart's layers, the chart itself first, nested layers too."""
    yield spec
    for layer in spec.get("layer", []):
        yield from _layers(layer)


def _value_axes(spec: dict) -> dict[str, list[dict]]:
    """The quantitative x and y encodings of a chart, by channel, over its layers."""
    axes: dict[str, list[dict]] = {}
    for layer in _layers(spec):
        for channel in ("x", "y"):
            encoding = layer.get("encoding", {}).get(channel)
            if encoding and encoding.get("type") == "quantitative":
                axes.setdefault(channel, []).append(encoding)
    return axes


def _not_from_zero(spec: dict) -> list[str]:
    """Value axes that do not start at zero, nor say so: (channel, field, title)."""
    found = []
    for channel, encodings in _value_axes(spec).items():
        scales = [e.get("scale") for e in encodings if "scale" in e]
        if any(s is None for s in scales):  # a label's position (scale=None), not a value axis
            continue
        if any(
            (s or {}).get("zero") is True or (s or {}).get("domain", [None])[0] == 0 for s in scales
        ):
            continue
        titles = " ".join(str(e.get("title", "")) for e in encodings)
        if "not from 0" not in titles:
            found.append(f"{channel}: {encodings[0]['field']} ({titles})")
    return found


PAGES = {  # page, and the filters set before it
    "overview": {},
    "bid": {"bid": SHARED_BID},
    "response_times": {},
    "response_times_fire": {"service": "fire"},
    "estates": {},
    "staffing": {},
    "national": {},
}


@pytest.fixture(scope="module")
def every_chart(demo_home):
    """Every chart spec the demo's pages draw, by page."""
    import streamlit as st

    before = os.environ.get("BLUELIGHT_HOME")
    os.environ["BLUELIGHT_HOME"] = str(demo_home)
    try:
        drawn = {}
        for name, filters in PAGES.items():
            st.cache_data.clear()
            at = AppTest.from_file(str(APP), default_timeout=60)
            at.run()
            for key, value in filters.items():
                at.session_state[f"filter.{key}"] = value
            at.switch_page(f"views/{name.removesuffix('_fire')}.py").run()
            assert not at.exception, (name, at.exception[0].value)
            drawn[name] = _specs(at)
        return drawn
    finally:
        if before is None:
            del os.environ["BLUELIGHT_HOME"]
        else:
            os.environ["BLUELIGHT_HOME"] = before


def test_cost_and_count_axes_start_at_zero(every_chart):
    # The Bid page's money profile (estate running cost, pounds) and every cost chart.
    bid = every_chart["bid"]
    money = [
        s
        for s in bid
        if any(e.get("title") == "£ (real terms)" for e in _value_axes(s).get("y", []))
    ]
    assert money and all(_value_axes(s)["y"][0]["scale"] == {"zero": True} for s in money)
    costs = [
        s for s in every_chart["estates"] if "running_cost_gbp" in json.dumps(s.get("encoding", {}))
    ]
    assert costs and costs[0]["encoding"]["y"]["scale"] == {"zero": True}
    # Every value axis on every page starts at zero, or its title says it does not (a time).
    offending = {
        page: found
        for page, specs in every_chart.items()
        if (found := [a for s in specs for a in _not_from_zero(s)])
    }
    assert offending == {}
    zoomed = [
        a for s in bid for a in _value_axes(s).get("y", []) if a.get("scale") == {"zero": False}
    ]
    assert zoomed and all("not from 0" in a["title"] for a in zoomed)


def test_each_service_role_and_status_has_a_colour_of_its_own():
    services = set(ui.SERVICE_COLOURS.values())
    roles = set(ui.ROLE_COLOURS.values())
    statuses = set(ui.STATUS_COLOURS.values())
    series = set(ui.SERIES_COLOURS)
    assert len(roles) == len(ui.ROLE_COLOURS)  # a colour per role
    assert roles.isdisjoint(services)
    assert set(ui.SPARE_ROLE_COLOURS).isdisjoint(services | roles | statuses)
    assert statuses.isdisjoint(services | roles) and len(statuses) == len(ui.STATUS_COLOURS)
    assert series.isdisjoint(services | roles | statuses)
    assert (
        set(ui.STATUS_LABEL)
        == set(ui.STATUS_MARK)
        == {
            "green",
            "amber",
            "red",
            "not_due",
            "year_to_date",
            "too_little_data",
        }
    )
    assert set(ui.STATUS_COLOURS) == set(ui.STATUS_LABEL.values())
    assert ui.status_text("year_to_date") == "◔ Year to date"
    assert ui.status_text("too_little_data") == "◇ Too little data"
    # The chart builders: a role named with spaces or underscores is the same role; one the
    # palette does not name gets a spare colour by its name, the same every time.
    scale = charts.role_scale(["police officer", "pcso", "police officer"]).to_dict()
    assert scale == {
        "domain": ["pcso", "police officer"],
        "range": [ui.ROLE_COLOURS["pcso"], ui.ROLE_COLOURS["police_officer"]],
    }
    assert charts.role_colour("dog handler") == charts.role_colour("dog_handler")
    assert charts.role_colour("dog handler") in ui.SPARE_ROLE_COLOURS
    assert charts.service_scale(["fire", "police"]).to_dict() == {
        "domain": ["police", "fire"],
        "range": [ui.SERVICE_COLOURS["police"], ui.SERVICE_COLOURS["fire"]],
    }
    assert not set(charts.series_scale(["a", "b", "c"]).to_dict()["range"]) & (services | roles)


def test_role_and_service_colours_are_the_same_on_every_page(every_chart):
    services = set(ui.SERVICE_COLOURS.values())
    roles = set(ui.ROLE_COLOURS.values())
    # Every chart of every page: a service or a role always in its one colour, and any other
    # series never in a service's or a role's colour.
    seen: dict[str, set[str]] = {}
    for page, specs in every_chart.items():
        for spec in specs:
            for layer in _layers(spec):
                colour = layer.get("encoding", {}).get("color", {})
                scale = colour.get("scale") or {}
                pairs = list(zip(scale.get("domain", []), scale.get("range", []), strict=False))
                field = colour.get("field")
                for value, hex_colour in pairs:
                    seen.setdefault(f"{field}:{value}", set()).add(hex_colour)
                if field not in ("service", "role", "chosen") and page != "national":
                    assert not {c for _, c in pairs} & (services | roles), (page, field)
    by_service = {k: v for k, v in seen.items() if k.startswith("service:")}
    by_role = {k: v for k, v in seen.items() if k.startswith("role:")}
    assert by_service == {f"service:{s}": {c} for s, c in ui.SERVICE_COLOURS.items()}
    assert len(by_role) == len(ui.ROLE_COLOURS)  # every demo role drawn
    assert by_role == {f"role:{r.replace('_', ' ')}": {c} for r, c in ui.ROLE_COLOURS.items()}


# ---------------------------------------------------------------- served, in Chromium


def _full_page(page) -> None:
    """Make the viewport as tall as the page's content, so a screenshot holds all of it."""
    page.wait_for_timeout(1000)  # let the charts draw
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1280, "height": min(height + 60, 12_000)})
    page.wait_for_timeout(1000)


@pytest.mark.browser
def test_served_overview_and_bid_page_reconcile(demo_home, tmp_path):
    chromium = chromium_or_skip()
    expected = _shared_benefit(demo_home)
    viewport = {"width": 1280, "height": 1000}
    with served_page(chromium, demo_home, tmp_path, viewport=viewport, accept_downloads=True) as (
        page,
        url,
        outside,
    ):
        page.get_by_text("Savings bids share.").wait_for(timeout=30_000)
        with page.expect_download() as download:  # the money table's data
            page.get_by_text("Download the data (CSV)").nth(1).click()
        rows = {
            (r["Bid"], r["Money"]): r
            for r in csv.DictReader(
                io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))
            )
        }
        overview_figure = float(rows[(SHARED_BID, "Cashable, a year")]["Realised"])
        _full_page(page)
        page.screenshot(path=str(ARTIFACTS / "dashboard-reconcile-overview.png"), full_page=True)

        page.set_viewport_size(viewport)
        page.get_by_role("link", name="Bid", exact=True).first.click()
        page.wait_for_url(f"{url}/bid")
        page.get_by_text("Warehouse published by run").first.wait_for(timeout=30_000)
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").nth(1).click()
        page.get_by_role("option").filter(has_text=SHARED_BID).first.click()
        steps = page.locator("table").filter(has_text=f"{expected.benefit_id}, ")
        steps.wait_for(timeout=30_000)
        shown = [
            [cell.strip() for cell in row.split("\t")]
            for row in steps.locator("tbody tr").all_inner_texts()
        ]
        _full_page(page)
        page.screenshot(path=str(ARTIFACTS / "dashboard-reconcile-bid.png"), full_page=True)
        shared = (
            page.locator("[data-testid='stAlert']")
            .filter(has_text="Shared with another bid.")
            .first.inner_text()
        )
    assert outside == []
    assert [label.split(":")[0].split(" (")[0] for label, _ in shown] == [
        "Baseline",
        "Without the bid",
        "Actual",
        "Saving",
        "× this bid's attribution share",
        "= the bid's attributed saving",
    ]
    assert [value for _, value in shown] == [
        ui.pounds(expected.baseline_value),
        ui.pounds(expected.counterfactual_value),
        ui.pounds(expected.actual_value),
        ui.pounds(expected.improvement),
        f"{expected.attribution_share:.0%}",
        ui.pounds(expected.attributed_improvement),
    ]
    assert shown[-1][1] == ui.pounds(overview_figure)  # the Overview's figure, the last step
    assert f"{OTHER_BID}: Northmoor Blue Light Estate Sharing" in shared
