"""The dashboard on a warehouse the tests built: the numbers each page shows, through AppTest, and
every page served and opened in Chromium.

The warehouse is the hand-made inbox (tests/handmade.py; its figures are worked out in
tests/test_known_answers.py) plus a staffing return, a refused file, a quarantined row and a
shared fire station, loaded by one real flow run. An earlier kept version is made by hand from
a copy of the published file with two figures changed, so "what changed since the last load"
has something to say without a second run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import ARTIFACTS, chromium_or_skip, published_night, served_page, settings_for
from handmade import write_dashboard_extras, write_handmade_inbox
from streamlit.testing.v1 import AppTest

from dashboard import queries, spreadsheet, warehouse
from dashboard.queries import overview
from flows.security import access_log
from flows.warehouse import publish

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
EARLIER_RUN = "20160101T000000-before"


def make_earlier_version(published: Path) -> Path:
    """A kept version 'published before' the real one: the same file, except that BEN2 was
    slipping at £950,000 in 2016-17 and B1's net present value was -40,000."""
    earlier = publish.version_path(published, EARLIER_RUN)
    shutil.copyfile(published, earlier)
    os.chmod(earlier, 0o644)
    with duckdb.connect(str(earlier)) as con:
        con.execute("""update marts.fct_benefit_realisation set status = 'amber',
                       actual_value = 950000
                       where benefit_id = 'BEN2' and financial_year = '2016-17'""")
        con.execute("update marts.fct_bid_value set npv_gbp = -40000 where bid_id = 'B1'")
        con.execute(
            "update audit.load_runs set run_id = ? where status like 'succeeded%'", [EARLIER_RUN]
        )
    os.chmod(earlier, publish.READ_ONLY)
    return earlier


@pytest.fixture(scope="module")
def handmade_home(tmp_path_factory):
    home, _result = published_night(
        tmp_path_factory, "dashboard_home", write_handmade_inbox, write_dashboard_extras
    )
    make_earlier_version(settings_for(home).published_db)
    return home


@pytest.fixture
def app(handmade_home, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("BLUELIGHT_HOME", str(handmade_home))
    st.cache_data.clear()  # the cache outlives a test in one process
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _page(at, name: str):
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception[0].value
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _filter(at, name: str):
    return at.sidebar.selectbox(key=f"filter_widget.{name}")


def _period(at, first: str, last: str):
    at.sidebar.select_slider(key="filter_widget.period").set_value((first, last)).run()
    assert not at.exception, at.exception[0].value
    return at


def _choose(at, name: str, value: str):
    _filter(at, name).set_value(value).run()
    assert not at.exception, at.exception[0].value
    return at


def _chart_data(at, index: int) -> list[pd.DataFrame]:
    """The data a chart on the page was drawn from (one frame per layer's dataset)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    proto = at.get("vega_lite_chart")[index].proto
    return [convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets]


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


# ---------------------------------------------------------------- Overview


def test_overview_totals_and_each_bid(app):
    # B1: BEN2 promises 25% of the 300,000 cut in police estate costs (75,000) and realises 25%
    # of the real saving, 79,463 (test_known_answers: 317,853 * 0.25), on track; BEN1 (call
    # handling) has no complete year since go-live (2016-17 runs to 6 May 2016: a year to date,
    # not judged), so B1 is on track with 0 of 1 service measures on track. B2: BEN3 promises 75% of
    # 300,000 a year (225,000) and realises 238,390 a year; BEN4 promises 1,000,000 of one-off
    # receipts and has 245,041 to date, kept apart from the savings: cashable savings a year
    # 79,463 + 238,390 = 317,853. BEN4 is red, so B2 is off track. NPV -36,866 + 164,037 =
    # 127,171; benefit-cost ratio (76,776 + 467,083) / (113,642 + 303,046) = 1.31.
    assert _metrics(app) == {
        "Net present value, all bids": "£127,171",
        "Benefit-cost ratio, all bids": "1.31",
        "Cashable savings a year": "£317,853",
        "One-off receipts to date": "£245,041",
        "Bids off track or slipping": "1 of 2",
    }
    table = app.dataframe[0].value.set_index("Bid")
    assert table.Title.to_dict() == {"B1": "Bid B1", "B2": "Bid B2"}  # titles beside ids
    assert table.loc["B1", "Status"] == "● On track"
    assert table.loc["B1", "Service on track"] == "0 of 1"
    assert table.loc["B1", "NPV"] == -36_866
    assert table.loc["B2", "Status"] == "■ Off track"
    assert table.loc["B2", "Service on track"] == "no service measures"
    assert table.loc["B2", "Paid back"] == "2016-17"
    # Money, a row per bid and kind it has: B1 no one-off money, so no row for it.
    money = app.dataframe[1].value
    assert money.values.tolist() == [
        ["B1", "Bid B1", "Cashable, a year", 75_000, 79_463],
        ["B2", "Bid B2", "Cashable, a year", 225_000, 238_390],
        ["B2", "Bid B2", "One-off, to date", 1_000_000, 245_041],
    ]
    shares = _markdown(app)
    assert (
        "- Police estate running cost (Testshire): **B1: Bid B1** 25%; **B2: Bid B2** 75% "
        "(100% in all)" in shares
    )
    assert "Pounds in real terms at 2015-16 prices." in " ".join(c.value for c in app.caption)


def test_overview_says_what_changed_since_the_last_load(app):
    text = _markdown(app)
    # The load: nine files loaded, one refused (no headcount column), one row set aside.
    assert "loaded **9 files** (35 rows)" in text
    assert "refused 1 and set aside 1 row (see Data health)" in text
    # Against the earlier version made by hand: BEN2 was slipping at £950,000, B1 worth -40,000.
    assert (
        "**BEN2** (B1: Bid B1, 2016-17): ▲ Slipping → **● On track**; actual £950,000 → £882,147"
        in text
    )
    assert "**B1: Bid B1** net present value: -£40,000 → **-£36,866**" in text
    assert "BEN1" not in text and "**B2**" not in text  # unchanged: not listed


def test_overview_area_filter(app):
    _choose(app, "area", "Othershire")
    # Othershire has no bids: its districts are the comparison for B1's fire call handling.
    (info,) = [i.value for i in app.info]
    assert info.startswith("**Othershire is the comparison area.** It has no bids of its own")
    assert "- **B1: Bid B1**: BEN1 " in info and "B2" not in info
    _choose(app, "area", "Testshire")
    assert _metrics(app)["Net present value, all bids"] == "£127,171"


def test_fct_bid_overview_holds_the_overview_figures(handmade_home):
    # The figures test_overview_totals_and_each_bid reads off the page, from the mart itself:
    # B1 has BEN1 (call handling: not due in 2015-16, its one complete year, and 2016-17 a year
    # to date of 5 incidents) and BEN2 (estate saving, green); B2 has BEN3 (green) and BEN4
    # (capital receipts, red).
    published = settings_for(handmade_home).published_db
    with duckdb.connect(str(published), read_only=True) as con:
        bids = con.execute("select * from marts.fct_bid_overview order by bid_id").df()
    b1, b2 = (row for _, row in bids.set_index("bid_id").iterrows())
    assert (b1.status, b2.status) == ("green", "red")
    assert (b1.benefits_green, b1.benefits_amber, b1.benefits_red) == (1, 0, 0)
    assert (b1.year_to_date, b1.year_to_date_observations) == ("2016-17", 5)
    assert pd.isna(b2.year_to_date)
    assert (b2.benefits_green, b2.benefits_amber, b2.benefits_red) == (1, 0, 1)
    assert (b1.service_measures, b1.service_measures_on_track) == (1, 0)
    assert (b2.service_measures, b2.service_measures_on_track) == (0, 0)
    # A year's savings and receipts to date are kept apart (BEN4 is one-off).
    assert (b1.cashable_promised_gbp, b2.cashable_promised_gbp) == (75_000, 225_000)
    assert b1.cashable_realised_gbp == pytest.approx(79_463, abs=1)
    assert b2.cashable_realised_gbp == pytest.approx(238_390, abs=1)
    assert (b1.one_off_promised_gbp, b2.one_off_promised_gbp) == (0, 1_000_000)
    assert (b1.one_off_realised_gbp, b2.one_off_realised_gbp) == pytest.approx((0, 245_041), abs=1)
    assert b1.non_cashable_promised_gbp == b1.non_cashable_realised_gbp == 0
    assert b1.npv_gbp == pytest.approx(-36_866, abs=1)
    assert b2.npv_gbp == pytest.approx(164_037, abs=1)
    assert b1.benefit_cost_ratio == pytest.approx(0.68, abs=0.005)
    assert (b1.payback_year, b2.payback_year) == (None, "2016-17")
    assert set(bids.latest_year) == {"2016-17"} and set(bids.price_base_year) == {"2015-16"}


# ---------------------------------------------------------------- Bid


def test_a_chosen_bid_shows_each_benefit_against_its_target(app):
    _page(app, "bid")
    assert [o.split(":")[0] for o in _filter(app, "bid").options] == ["B1", "B2"]
    labels_values = [(m.label, m.value) for m in app.metric]
    # B1's first benefit: call handling 100 s baseline, 40 s target. Its one complete year is
    # 2015-16, before go-live (not due); 2016-17 runs to 6 May 2016, a year to date at 80 s that
    # is shown with its incidents and not judged.
    assert ("Status 2015-16", "○ Not due") in labels_values
    assert ("Actual 2015-16", "100.0 s") in labels_values
    assert not any(label == "Status 2016-17" and v != "● On track" for label, v in labels_values)
    assert (
        "**2016-17 year to date: 5 incidents**, data to 06 May 2016; actual so far 80.0 s. Not "
        "judged until the year is complete." in _markdown(app)
    )
    # B1's value to date: a quarter of the real saving (1,200,000 - 900,000 * 84.0/85.7),
    # discounted a year at 3.5%, against 120,000 deflated and discounted alike: NPV -36,866,
    # ratio 0.68; its call-handling benefit is not money, and the ratio says so beside it.
    assert ("Net present value to date", "-£36,866") in labels_values
    assert ("Benefit-cost ratio to date", "0.68") in labels_values
    assert ("Paid back in", "not yet") in labels_values
    ratio_help = next(m.help for m in app.metric if m.label == "Benefit-cost ratio to date")
    assert "1 benefit is not money" in ratio_help and "/method#benefit-cost-ratio" in ratio_help
    assert any(label == "Whole-life NPV" for label, _ in labels_values)
    # Every figure links to its section of the Method page.
    assert [m.label for m in app.metric if "/method#" not in (m.help or "")] == []
    text = _markdown(app)
    assert "Partners: Test police, Test fire" in text and "**01 April 2016**" in text
    # No treated district is seen both before and after go-live (test_known_answers), so there
    # is no estimate against the comparison areas: the page says why instead of a figure, and
    # the status rests on the plain before/after, labelled as such.
    attribution = " ".join(i.value for i in app.info)
    assert "No estimate: fewer than 2 units in an arm (0 treated, 1 comparison)" in attribution
    # BEN2 (25%) shares Testshire's police estate saving with B2's BEN3 (75%).
    assert (
        "**Shared with another bid.** **B2: Bid B2** (BEN3, 75%) claims a share of the same "
        "measured change; this bid claims 25% (100% in all)." in attribution
    )
    captions = " ".join(c.value for c in app.caption)
    assert "Owner: Owner of BEN1" in captions
    # BEN2's saving: 1,200,000 - 882,147 = 317,853 (test_known_answers), before/after.
    assert "Improvement +£317,853: before/after (no counterfactual estimate" in captions

    _choose(app, "bid", "B2")
    labels_values = [(m.label, m.value) for m in app.metric]
    # In 2015-16 prices: 900,000 and 250,000 of 2016-17 cash times 84.0/85.7; each money
    # benefit's steps end at the Overview's figure: BEN3 75% of the saving, BEN4 all of it.
    text = _markdown(app)
    assert "| Actual | £882,147 |" in text and "| Actual | £245,041 |" in text
    assert (
        "| = **the bid's attributed saving**: the Overview's realised, *Cashable, a year* | "
        "**£238,390** |" in text
    )
    assert "the Overview's realised, *One-off, to date* | **£245,041** |" in text
    assert ("Status 2016-17", "■ Off track") in labels_values
    assert app.title[0].value == "B2: Bid B2"
    # BEN3's estate sites have no comparison sites: no estimate, and the page says why.
    attribution = " ".join(i.value for i in app.info)
    assert "No estimate: fewer than 2 units in an arm (2 treated, 0 comparison)" in attribution


def _profile(app) -> pd.DataFrame:
    """The first benefit's profile chart's data (the money section's charts come before it)."""
    frames = (_chart_data(app, i)[0] for i in range(len(app.get("vega_lite_chart"))))
    return next(f for f in frames if "series" in f.columns and "financial_year" in f.columns)


def _profile_years(app) -> set[str]:
    """The years every profile chart on the page draws."""
    frames = (_chart_data(app, i)[0] for i in range(len(app.get("vega_lite_chart"))))
    return {
        year
        for f in frames
        if "series" in f.columns and "financial_year" in f.columns
        for year in f.financial_year
    }


def test_bid_period_filter_limits_the_profile(app):
    _page(app, "bid")
    profile = _profile(app)  # BEN1: baseline, target line and actual, by complete year
    # 2016-17 is a year to date (data to 6 May 2016): never drawn as if it were a year's figure.
    assert sorted(profile.financial_year.unique()) == ["2015-16"]
    actual = profile[profile.series == "actual"].set_index("financial_year").value
    assert actual.to_dict() == {"2015-16": 100}
    assert _profile_years(app) == {"2015-16", "2016-17"}  # BEN2's estate costs: both complete
    _period(app, "2016-17", "2016-17")
    assert _profile_years(app) == {"2016-17"}


# ---------------------------------------------------------------- Response times


def test_response_times_headlines_and_filters(app):
    _page(app, "response_times")
    assert [s.value for s in app.subheader] == ["Fire"]  # the only service with incidents
    # All services (only fire in the hand-made inbox): the latest month of each county, as the
    # charts draw it. Testshire, May 2016: 300, 360, 420, 480 and 1,200 s: median 420 s (7.0
    # min), 90th percentile 480 + 0.6 * (1,200 - 480) = 912 s (15.2 min); within the primary
    # fire standard of 10 minutes, 4 of 5 (80%). Othershire, May 2016: two of 50 minutes.
    assert _metrics(app) == {
        "Othershire: median": "50.0 min",
        "Othershire: 90th percentile": "50.0 min",
        "Othershire: within standard (by category)": "0%",
        "Testshire: median": "7.0 min",
        "Testshire: 90th percentile": "15.2 min",
        "Testshire: within standard (by category)": "80%",
    }
    captions = " ".join(c.value for c in app.caption)
    assert "each incident against its category's standard (primary fire 10 min," in captions
    _choose(app, "service", "fire")
    category = app.selectbox(key="category.fire")
    assert category.options == ["all", "primary fire"]
    category.set_value("primary_fire").run()
    assert _metrics(app)["Testshire: within standard (10 min)"] == "80%"
    assert "Standard: 10 min, Local integrated risk management plan standard" in " ".join(
        c.value for c in app.caption
    )
    assert [s.value for s in app.subheader] == [
        "Median and 90th percentile",
        "Share reached within the standard (10 min)",
        "Fire: where the minutes go",
    ]
    _choose(app, "area", "Testshire")
    assert _metrics(app) == {
        "Testshire: median": "7.0 min",
        "Testshire: 90th percentile": "15.2 min",
        "Testshire: within standard (10 min)": "80%",
    }
    # Up to March 2016 only: Testshire's two June 2015 fires of 10 minutes, both within.
    _period(app, "2015-16", "2015-16")
    assert _metrics(app)["Testshire: median"] == "10.0 min"
    assert _metrics(app)["Testshire: within standard (10 min)"] == "100%"
    _choose(app, "service", "police")  # police has staff and sites here, but no incidents
    assert [i.value for i in app.info] == ["No police incidents of this category in 2015-16."]


# ---------------------------------------------------------------- Estates


def test_estates_sites_costs_and_receipts(app):
    _page(app, "estates")
    # 2016-17: S1 800,000 + S2 500,000 + S3 100,000 + S4 (Othershire, shared with ambulance)
    # 300,000 = 1,700,000 cash; S3 sold for 250,000.
    assert _metrics(app) == {
        "Sites, 2016-17": "4",
        "Co-located sites, 2016-17": "1",
        "Running costs, 2016-17": "£1,700,000",
        "Capital receipts": "£250,000",
    }
    shared = app.dataframe[0].value
    assert shared[["Site", "Shared with", "County"]].values.tolist() == [
        ["S4", "ambulance", "Othershire"]
    ]
    sold = app.dataframe[1].value
    assert sold[["Site", "Capital receipt (£)"]].values.tolist() == [["S3", 250_000]]

    _choose(app, "service", "police")  # S1 800,000 + S3 100,000
    assert _metrics(app)["Running costs, 2016-17"] == "£900,000"
    assert _metrics(app)["Sites, 2016-17"] == "2"
    _choose(app, "service", "All services")
    _choose(app, "area", "Othershire")
    assert _metrics(app)["Running costs, 2016-17"] == "£300,000"
    assert _metrics(app)["Capital receipts"] == "£0"
    # 2015-16 in both counties: S1 1,000,000 + S2 500,000 + S3 200,000; no sale yet.
    _choose(app, "area", "All areas")
    _period(app, "2015-16", "2015-16")
    assert _metrics(app) == {
        "Sites, 2015-16": "3",
        "Co-located sites, 2015-16": "0",
        "Running costs, 2015-16": "£1,700,000",
        "Capital receipts": "£0",
    }


# ---------------------------------------------------------------- Staffing


def test_staffing_fte_and_shared_posts(app):
    _page(app, "staffing")
    # May 2016: police officers 98.5 + firefighters 40 + a tri-service officer 2 = 140.5 FTE
    # (June's row has an FTE of "lots": set aside). April: 100 + 40 = 140.
    assert _metrics(app) == {
        "FTE in post, May 2016": "140.5",
        "Headcount, May 2016": "147",
        "Shared posts (FTE), May 2016": "2.0",
    }
    assert app.metric[0].delta == "+0.5 since Apr 2016"
    _choose(app, "service", "police")
    assert _metrics(app)["FTE in post, May 2016"] == "98.5"
    assert [i.value for i in app.info] == ["No shared posts in 2015-16 to 2016-17."]
    # Othershire is served by Test Police, Test Fire F2 and Test Ambulance: police only here.
    _choose(app, "service", "All services")
    _choose(app, "area", "Othershire")
    assert _metrics(app)["FTE in post, May 2016"] == "98.5"


# ---------------------------------------------------------------- Data health


def test_data_health_shows_load_quality_quarantine_and_refusals(app):
    _page(app, "data_health")
    metrics = _metrics(app)
    # A file refused and a row set aside: not a clean night, in the run log's own words.
    assert metrics["Last run"] == "▲ succeeded with refusals"
    assert metrics["Files loaded"] == "9"
    assert metrics["Files refused"] == "1"
    assert metrics["Rows set aside"] == "1"
    captions = " ".join(c.value for c in app.caption)
    # The run's own freshness check: the seven agency sources came tonight (fresh); bid_costs
    # never came (the bids are costed at their award) and the six published statistics were
    # never sent (optional: listed, not warned about).
    assert "7 of 14 sources late or never loaded" in captions
    tables = [d.value for d in app.dataframe]
    sources = tables[0].set_index("Source")
    assert sources.loc["staffing", "Status"] == "● fresh"
    assert sources.loc["ambsys", "Status"] == "■ never loaded"
    assert sources.loc["incidents", "Expected"] == "nightly"
    held = next(t for t in tables if "Rule broken" in t.columns)
    assert held[["File", "Column", "Rows"]].values.tolist() == [
        ["staffing/test_staffing.csv", "fte", 1]
    ]
    refused = next(t for t in tables if "reason" in t.columns)
    assert refused.original_name.tolist() == ["staffing/no_headcount.csv"]
    assert "headcount" in refused.reason[0]
    run_id = publish.publishing_run(warehouse.target())[0]
    shown = " ".join(i.value for i in app.info)
    assert f"published by run {run_id}" in shown and "one of 2 kept versions" in shown


@pytest.fixture
def other_home(handmade_home, tmp_path, monkeypatch):
    """A copy of the hand-made data directory that a test may change."""
    home = tmp_path / "home"
    (home / "warehouse" / "versions").mkdir(parents=True)
    published = settings_for(handmade_home).published_db
    shutil.copyfile(published, settings_for(home).published_db)
    shutil.copyfile(settings_for(handmade_home).run_log, settings_for(home).run_log)
    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    return home


def test_data_health_freshness_and_a_failed_run_since(other_home):
    import streamlit as st

    published = settings_for(other_home).published_db
    os.chmod(published, 0o644)
    with duckdb.connect(str(published)) as con:
        con.execute("""insert into audit.source_freshness
            (run_id, source, cadence, last_loaded_at, due_by, status, checked_at) values
            ('r1', 'incidents', 'monthly', '2016-06-01', '2016-07-15', 'fresh', '2016-07-01'),
            ('r1', 'staffing', 'monthly', '2016-05-01', '2016-06-15', 'late', '2016-07-01'),
            ('r1', 'finance', 'yearly', null, '2016-06-30', 'never', '2016-07-01')""")
    with settings_for(other_home).run_log.open("a") as log:
        log.write(
            json.dumps(
                {"run_id": "29990101T000000-later", "status": "failed", "error": "dbt build failed"}
            )
            + "\n"
        )
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    _page(at, "data_health")
    assert "2 of 3 sources late or never loaded" in " ".join(c.value for c in at.caption)
    freshness = at.dataframe[0].value.set_index("Source")
    assert freshness.Status.to_dict() == {
        "finance": "■ never loaded",
        "staffing": "▲ late",
        "incidents": "● fresh",
    }
    assert _metrics(at)["Last run"] == "■ failed"
    assert (
        "The last run (29990101T000000-later) failed and published nothing: dbt build failed"
        in (at.warning[0].value)
    )


def test_a_new_publish_is_seen_at_once(other_home, handmade_home):
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    _page(at, "data_health")
    first = publish.publishing_run(settings_for(handmade_home).published_db)[0]
    assert f"published by run {first}" in at.info[0].value
    # A publish renames a new file into place; the cached figures must not outlive it.
    published = settings_for(other_home).published_db
    earlier = publish.version_path(settings_for(handmade_home).published_db, EARLIER_RUN)
    shutil.copyfile(earlier, published.with_name("incoming"))
    os.replace(published.with_name("incoming"), published)
    at.run()
    assert f"published by run {EARLIER_RUN}" in at.info[0].value
    _page(at, "overview")
    assert _metrics(at)["Net present value, all bids"] == "£124,037"  # -40,000 + 164,037


# A nightly run's publish, in a process of its own as in production: start the build from the
# published file, change a figure, record the run, and rename the build into place.
PUBLISHER = """
import sys
from pathlib import Path

import duckdb

from flows.warehouse import publish

published, run_id = Path(sys.argv[1]), sys.argv[2]
build = published.parent.parent / "build" / "bluelight.duckdb"
publish.prepare_build(published, build)
with duckdb.connect(str(build)) as con:
    con.execute("update marts.fct_bid_value set npv_gbp = -1 where bid_id = 'B1'")
    con.execute(
        "insert into audit.load_runs (run_id, finished_at, status) values (?, now(), 'succeeded')",
        [run_id],
    )
publish.publish(build, published)
"""


def _holds_open(inode: int) -> bool:
    """Whether this process has a file with `inode` open (Linux: /proc/self/fd)."""
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if fd.stat().st_ino == inode:
                return True
        except OSError:  # the directory's own descriptor, gone by now
            pass
    return False


def test_a_publish_while_the_dashboard_holds_the_file(other_home):
    published = settings_for(other_home).published_db
    first = warehouse.version()
    npv = overview.bid_overview().set_index("bid_id").npv_gbp
    assert npv["B1"] == pytest.approx(-36_866, abs=1)
    old = published.stat().st_ino
    assert _holds_open(old)  # the dashboard keeps its read-only connection between queries

    later = "29990101T000000-next"
    done = subprocess.run(
        [sys.executable, "-c", PUBLISHER, str(published), later],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # the held connection blocked nothing
    assert publish.version_path(published, first).exists()  # the old file, kept as a version

    # The next queries read the new file, and the connection to the old one is let go.
    assert warehouse.version() == later
    assert overview.bid_overview().set_index("bid_id").npv_gbp["B1"] == -1
    assert queries.published_version().run_id[0] == later
    assert not _holds_open(old)


def test_queries_from_many_threads_across_a_publish(other_home):
    published = settings_for(other_home).published_db
    incoming = published.with_name("incoming")
    shutil.copyfile(published, incoming)  # the same figures in another file
    warehouse.version()
    old = published.stat().st_ino
    rows, errors = [], []

    def ask():
        try:
            for _ in range(40):
                rows.append(len(overview.bid_overview()))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    while len(rows) < 20 and any(t.is_alive() for t in threads):
        time.sleep(0.001)
    os.replace(incoming, published)  # a publish while queries are running
    for thread in threads:
        thread.join()
    assert errors == []
    assert rows == [2] * 160
    assert overview.bid_overview().shape[0] == 2
    assert not _holds_open(old)  # closed once the queries reading it were done


# ---------------------------------------------------------------- filters across pages


def test_filters_persist_across_pages(app):
    _page(app, "estates")
    _choose(app, "service", "police")
    _choose(app, "area", "Testshire")
    _period(app, "2016-17", "2016-17")
    _page(app, "staffing")
    assert _filter(app, "service").value == "police"
    assert _filter(app, "area").value == "Testshire"
    assert app.sidebar.select_slider(key="filter_widget.period").value == ("2016-17", "2016-17")
    assert _metrics(app)["FTE in post, May 2016"] == "98.5"  # police, as chosen on Estates
    _page(app, "bid")
    _choose(app, "bid", "B2")
    _page(app, "overview")
    assert _filter(app, "area").value == "Testshire"
    _page(app, "bid")
    assert _filter(app, "bid").value == "B2"
    assert app.title[0].value == "B2: Bid B2"
    _page(app, "response_times")
    assert _filter(app, "service").value == "police"
    # Othershire has no bids: the bid filter falls back to none, then to the first bid.
    _choose(app, "area", "Othershire")
    _page(app, "bid")
    assert [i.value for i in app.info] == [
        "No bids in this area. Othershire is the comparison area for B1: Bid B1: choose every "
        "area to see them."
    ]


def test_every_chart_and_table_can_be_downloaded(app):
    for page in ("overview", "bid", "response_times", "estates", "staffing", "data_health"):
        _page(app, page)
        buttons = [b.label for b in app.get("download_button")]
        shown = len(app.get("vega_lite_chart")) + len(app.dataframe)
        # One CSV under each chart and table; the Bid page's evidence pack above them.
        pack = [f"Download the evidence pack ({f})" for f in ("HTML", "PDF") if page == "bid"]
        assert buttons == pack + ["Download the data (CSV)"] * shown and shown > 0, page


# ---------------------------------------------------------------- CSV that cannot run a formula


def test_csv_cells_that_could_run_a_formula_are_escaped():
    frame = pd.DataFrame(
        {
            "=cmd": ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"],
            "text": ["plain", "a=b", "", "O'Neil", "-", "ok, with a comma"],
            "number": [-5, 1.5, 0, 10, -0.25, 7],
        }
    )
    data = spreadsheet.safe_csv(frame)
    assert data.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["'=cmd", "text", "number"]
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
    ]
    assert [r[1] for r in rows[1:]] == ["plain", "a=b", "", "O'Neil", "'-", "ok, with a comma"]
    assert [r[2] for r in rows[1:]] == ["-5.0", "1.5", "0.0", "10.0", "-0.25", "7.0"]  # numbers


# ---------------------------------------------------------------- served, in Chromium

PAGES = {
    # page link text: (url path, the headline figure it must show)
    "Overview": ("", "£127,171"),
    "Bid": ("bid", "-£36,866"),
    "Method": ("method", "Realisation and status"),
    "Response times": ("response_times", "7.0 min"),
    "Estates": ("estates", "£1,700,000"),
    "Staffing": ("staffing", "140.5"),
    "Data health": ("data_health", "▲ succeeded with refusals"),
}


def navigate(page, name: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    """Click the page `name` in the top navigation, opening its "N more" menu when the page
    is one the bar has no room for."""
    top = page.get_by_test_id("stTopNav")
    top.wait_for(timeout=30_000)
    exact = re.compile(f"^{re.escape(name)}$")
    link = top.get_by_test_id("stTopNavLink").filter(has_text=exact)
    try:  # a link the bar has no room for is in the page but hidden, so it cannot be clicked
        link.first.click(timeout=3_000)
        return
    except PlaywrightTimeout:
        pass
    top.get_by_text(re.compile(r"^\d+ more$")).click()
    page.get_by_test_id("stTopNavDropdownLink").filter(has_text=exact).first.click()


@pytest.mark.browser
def test_served_dashboard_renders_every_page_in_headless_chromium(handmade_home, tmp_path):
    chromium = chromium_or_skip()
    shown, exceptions = {}, {}
    # A laptop's width; tall, so the screenshot holds the whole page.
    viewport = {"width": 1280, "height": 2400}
    with served_page(
        chromium, handmade_home, tmp_path, viewport=viewport, accept_downloads=True
    ) as (page, url, outside):
        for name, (path, headline) in PAGES.items():
            # Through the navigation, as a commissioner would: the session (and its
            # filters) carries over from page to page.
            navigate(page, name)
            page.wait_for_url(f"{url}/{path}")
            page.get_by_text(headline, exact=True).first.wait_for(timeout=30_000)
            # Every page ends with the version it shows: then the page has run to its end.
            page.get_by_text("Warehouse published by run").first.wait_for(timeout=30_000)
            page.wait_for_timeout(800)  # let the charts draw before the screenshot
            shown[name] = page.get_by_role("heading", level=1).first.inner_text()
            exceptions[name] = page.locator("[data-testid='stException']").count()
            slug = path or "overview"
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{slug}.png"), full_page=True)
            if name == "Overview":
                with page.expect_download() as download:
                    page.get_by_text("Download the data (CSV)").first.click()
                overview_csv = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert exceptions == dict.fromkeys(PAGES, 0)
    assert shown["Overview"] == "Are our collaborations delivering what their bids promised?"
    assert shown["Bid"] == "B1: Bid B1"
    assert outside == []  # no map tiles, fonts or icons fetched from outside the machine
    rows = {r["Bid"]: r for r in csv.DictReader(io.StringIO(overview_csv))}
    assert rows["B1"]["Title"] == "Bid B1"
    assert float(rows["B2"]["NPV"]) == 164_037
    for path, _ in PAGES.values():
        shot = ARTIFACTS / f"dashboard-{path or 'overview'}.png"
        assert shot.stat().st_size > 10_000
    # Every page viewed and the CSV exported are in the access log, the export with its rows;
    # on loopback without sign-in the user is `local`.
    log = settings_for(handmade_home).access_log
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {e["page"] for e in entries if e["event"] == "page-view"} >= set(PAGES)
    assert ("Bid", "B1") in {(e["page"], e["bid"]) for e in entries}
    export = [e for e in entries if e["event"] == "export"][-1]
    assert (export["who"], export["page"], export["rows"]) == ("local", "Overview", 2)
    assert export["detail"] == {"file": "bids_overview.csv"}
    assert access_log.verify(log).whole


def test_a_view_is_logged_when_the_page_or_bid_changes_not_at_each_rerun(other_home):
    import streamlit as st

    log = settings_for(other_home).access_log
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.run()  # a rerun (a widget changed) is not a new view
    _page(at, "bid")
    _choose(at, "bid", "B2")
    _page(at, "overview")
    views = [
        (e["who"], e["page"], e["bid"])
        for e in map(json.loads, log.read_text().splitlines())
        if e["event"] == "page-view"
    ]
    assert views == [
        ("local", "Overview", None),
        ("local", "Bid", "B1"),
        ("local", "Bid", "B2"),
        ("local", "Overview", None),
    ]
    assert access_log.verify(log).count == 4


def test_bench_measures_every_page(handmade_home):
    from dashboard import bench

    published = settings_for(handmade_home).published_db
    results = bench.measure(published, repeats=1)
    assert list(results) == list(bench.PAGES)
    for timings in results.values():
        assert 0 < timings["cold_median"] == timings["cold_p95"] < 60
        # The queries run inside the render: their sum is part of it.
        assert 0 < timings["queries_median"] == timings["queries_p95"] < timings["cold_median"]
        assert timings["query_seconds"]  # each query named, with its time
    assert warehouse._pinned is None  # the dashboard reads its settings' warehouse again
