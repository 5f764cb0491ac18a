"""The dashboard on day one: a warehouse holding only the published national statistics (the
real Home Office, NHS England and ONS files), built by one real flow run, before any bid,
benefits register or agency extract has arrived.

Every page renders; a page whose marts are empty says which sources would fill them, with their
inbox folders and how to start a file; the National picture shows figures read by hand from the
files; and the served dashboard is opened in Chromium. A second night adds bids and benefits
registers alone, so the bid pages have bids but nothing measured against them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    ARTIFACTS,
    chromium_or_skip,
    published_night,
    run_flow,
    served_page,
    write_public_inbox,
)
from handmade import write_handmade_inbox
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"

# The real files, by the inbox folder each goes in.
PAGES = ("overview", "national", "bid", "response_times", "estates", "staffing", "data_health")
# Each page whose marts are empty on day one, and the sources its empty state must name.
WAITING = {
    "overview": ["benefits_register", "bids", "boundaries", "estates", "incidents"],
    "bid": ["benefits_register", "bids", "boundaries", "incidents"],
    "response_times": ["boundaries", "incidents"],
    "estates": ["boundaries", "estates"],
    "staffing": ["staffing"],
}


@pytest.fixture(scope="module")
def day_one_home(tmp_path_factory):
    home, _result = published_night(tmp_path_factory, "dashboard_day_one", write_public_inbox)
    return home


@pytest.fixture(scope="module")
def second_night_home(day_one_home, tmp_path_factory):
    """Day one, then a night that brings the hand-made bids and benefits registers and nothing
    else: bids to show, no incidents, estates or boundaries to measure their benefits by."""
    home = tmp_path_factory.mktemp("dashboard_second_night") / "home"
    shutil.copytree(day_one_home, home)
    handmade = tmp_path_factory.mktemp("handmade_inbox")
    write_handmade_inbox(handmade)
    for folder in ("bids", "benefits_register"):
        shutil.copytree(handmade / folder, home / "inbox" / folder)
    result = run_flow(home)
    assert result["status"] == "succeeded", result
    return home


def _app(home: Path, monkeypatch) -> AppTest:
    import streamlit as st

    monkeypatch.setenv("BLUELIGHT_HOME", str(home))
    st.cache_data.clear()  # the cache outlives a test in one process
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception[0].value
    return at


@pytest.fixture
def app(day_one_home, monkeypatch):
    return _app(day_one_home, monkeypatch)


def _page(at, name: str):
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception[0].value
    return at


def _choose(at, key: str, value):
    at.selectbox(key=f"filter_widget.{key}").set_value(value).run()
    assert not at.exception, at.exception[0].value
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _chart_data(at, index: int) -> pd.DataFrame:
    """The data a chart on the page draws (its first layer's)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    proto = at.get("vega_lite_chart")[index].proto
    return convert_arrow_bytes_to_pandas_df(proto.datasets[0].data.data)


def _info(at) -> str:
    return "\n".join(i.value for i in at.info)


# ---------------------------------------------------------------- every page, empty states


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_day_one(app, page):
    _page(app, page)
    assert app.title, page
    # A page draws a chart only when it has data to draw: no bare axes.
    if page in WAITING:
        assert not app.get("vega_lite_chart"), page
        assert not app.dataframe, page
    # Every chart and table has its CSV under it.
    shown = len(app.get("vega_lite_chart")) + len(app.dataframe)
    assert len(app.get("download_button")) == shown, page


@pytest.mark.parametrize("page", list(WAITING))
def test_each_empty_page_names_the_sources_that_would_fill_it(app, page):
    _page(app, page)
    text = _info(app)
    for source in WAITING[page]:
        assert f"**{source}**" in text, (page, source)
        assert f"`inbox/{source}/`" in text, (page, source)
        assert f"`bluelight sources {source} --template`" in text, (page, source)
    # Only the sources it waits for: the published statistics have loaded.
    assert "ambsys" not in text and "police_workforce_tables" not in text
    assert "Warehouse published by run" in app.caption[-1].value


def test_the_overview_waits_for_bids_and_benefits_registers(app):
    info = _info(app)
    assert info.startswith("No bids or benefits registers loaded yet.")
    assert "- **bids** (Police Innovation Fund bids): files go in `inbox/bids/`" in info
    assert (
        "- **benefits_register** (Benefits register, one per bid): files go in "
        "`inbox/benefits_register/`; `bluelight sources benefits_register --template` writes a "
        "template to fill in." in info
    )
    # The published statistics are there meanwhile.
    link = app.get("page_link")[0].proto
    assert link.page == "national" and "National picture" in link.label


def test_data_health_lists_each_mart_and_what_it_waits_for(app):
    _page(app, "data_health")
    marts = next(d.value for d in app.dataframe if "Mart" in d.value.columns).set_index("Mart")
    assert marts.loc["fct_police_workforce", "Status"] == "● ready"
    assert marts.loc["fct_police_workforce", "Rows"] == 645  # 43 forces, 5 tables, 3 dates
    assert marts.loc["fct_area_coterminosity", "Status"] == "● ready"
    assert marts.loc["dim_bids", "Status"] == "■ waiting for benefits_register, bids"
    assert marts.loc["dim_bids", "Rows"] == 0
    assert marts.loc["dim_bids", "Inbox folders"] == "inbox/benefits_register/, inbox/bids/"
    assert marts.loc["fct_staffing_monthly", "Waiting for"] == "staffing"
    captions = " ".join(c.value for c in app.caption)
    assert "7 of 28 marts ready" in captions
    assert marts.loc["dim_organisations", "Status"] == "■ waiting for boundaries"
    # The empty marts' row counts fail as warnings: said to be waiting, not broken.
    assert "All of them are on marts still waiting for a source never loaded" in captions


def _edited_copy(day_one_home: Path, tmp_path: Path, *statements: str) -> Path:
    """A data directory whose published warehouse is day one's with `statements` applied."""
    import duckdb

    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    published = home / "warehouse" / "bluelight.duckdb"
    shutil.copyfile(day_one_home / "warehouse" / "bluelight.duckdb", published)
    os.chmod(published, 0o644)
    with duckdb.connect(str(published)) as con:
        for statement in statements:
            con.execute(statement)
    return home


def test_a_warehouse_with_no_readiness_gets_a_plain_message(day_one_home, tmp_path, monkeypatch):
    """A warehouse published before runs recorded audit.mart_readiness: no sources to name."""
    home = _edited_copy(day_one_home, tmp_path, "drop table audit.mart_readiness")
    at = _app(home, monkeypatch)
    assert _info(at) == "No bids or benefits registers loaded yet."
    _page(at, "staffing")
    assert _info(at) == "No staffing returns loaded yet."
    _page(at, "data_health")
    assert "No mart readiness recorded" in " ".join(c.value for c in at.caption)


def test_an_empty_national_section_names_the_publication(day_one_home, tmp_path, monkeypatch):
    """A published statistic not loaded: its folder, as released; no template to fill in."""
    home = _edited_copy(
        day_one_home,
        tmp_path,
        "delete from marts.fct_ambulance_response_monthly",
        """update audit.mart_readiness set waiting_for = ['ambsys'], rows = 0,
           status = 'waiting' where mart = 'fct_ambulance_response_monthly'""",
    )
    at = _page(_app(home, monkeypatch), "national")
    assert _info(at) == (
        "No AmbSYS ambulance response figures loaded yet. It fills once this source loads "
        "(folders in the data directory's inbox):\n\n"
        "- **ambsys** (NHS England Ambulance Quality Indicators (AmbSYS)): files go in "
        "`inbox/ambsys/` exactly as released (publisher: NHS England), or name its address in "
        "`BLUELIGHT_PUBLISHED_URLS` to fetch it each night."
    )
    assert [h.value for h in at.header] == [
        "Police workforce",
        "Ambulance response",
        "Fire stations",
        "Police force areas and fire and rescue authorities",
    ]


# ---------------------------------------------------------------- National picture


def test_national_picture_police_workforce(app):
    _page(app, "national")
    _choose(app, "police_force", "Kent")
    metrics = _metrics(app)
    # Table_1 of police-workforce-tabs-30sep15.ods ("Police officers ... Full-time
    # equivalents"), the row "Kent", the column headed 30 September 2015: 3142.85; the column
    # before it (31 March 2015) 3188.39, so -45.54 in six months.
    assert metrics["Kent, 30 Sep 2015"] == "3,142.85 FTE"
    assert app.metric[0].delta == "-45.54 since 31 Mar 2015"
    # The same column's 43 force rows in order, the 22nd: Surrey's 1855.6.
    assert metrics["England and Wales median, 30 Sep 2015"] == "1,855.60 FTE"
    trend = _chart_data(app, 0)  # Kent against the median, as at each date
    kent = trend[trend.series == "Kent"].set_index("as_at_date").value
    assert kent.to_dict() == {
        pd.Timestamp("2014-09-30"): 3230.14,
        pd.Timestamp("2015-03-31"): 3188.39,
        pd.Timestamp("2015-09-30"): 3142.85,
    }
    ranking = _chart_data(app, 1)  # every force at 30 September 2015
    assert len(ranking) == 43
    assert ranking.set_index("force_name").fte["Kent"] == 3142.85
    assert ranking[ranking.chosen].force_name.tolist() == ["Kent"]
    # Table_5 (special constables) is a headcount: Kent's row, 30 September 2015, 256.
    _choose(app, "police_worker_type", "Special constables")
    assert _metrics(app)["Kent, 30 Sep 2015"] == "256 headcount"
    assert app.metric[0].delta == "+8 since 31 Mar 2015"  # 248 in the column before
    assert "headcount, as the table publishes it" in " ".join(c.value for c in app.caption)


def test_national_picture_ambulance_response(app):
    _page(app, "national")
    _choose(app, "ambulance_trust", "RRU")
    assert "London Ambulance Service NHS Trust against the England median" in " ".join(
        s.value for s in app.subheader
    )
    text = " ".join(m.value for m in app.markdown)
    assert "C1 standard: mean 7 min and 90th centile 15 min" in text
    # AmbSYS.csv, the row with Year 2019, Month 1, Org Code RRU (London Ambulance Service), column
    # A26 (C1 90th centile, seconds): 630, so 10.5 minutes; A25 (C1 mean) 381 s, 6.35 minutes.
    london = "London Ambulance Service NHS Trust"
    mean, p90 = (_chart_data(app, i) for i in (2, 3))  # the trust and the England median
    p90 = p90[p90.series == london].set_index("month").minutes
    assert p90[pd.Timestamp("2019-01-01")] == pytest.approx(10.5)
    mean = mean[mean.series == london].set_index("month").minutes
    assert mean[pd.Timestamp("2019-01-01")] == pytest.approx(381 / 60)
    assert _chart_data(app, 3).series.unique().tolist() == [london, "England median"]
    # C3 has a 90th centile standard only (120 minutes).
    _choose(app, "ambulance_category", "C3")
    text = " ".join(m.value for m in app.markdown)
    assert "C3 standard: 90th centile 120 min" in text
    assert "**Mean**: no standard for this statistic" in text


def test_national_picture_fire_stations(app):
    _page(app, "national")
    # home-office_fire-stations-dataset.csv: 56 records whose FRS_FULLNAME is "Kent" (counted
    # with a CSV reader: some addresses run over several lines), E_CODE E31000022.
    _choose(app, "fire_service", "E31000022")
    assert _metrics(app)["Kent: stations"] == "56"
    per_service = _chart_data(app, 6).set_index("frs_name")  # stations per service
    assert per_service.stations["London"] == 103  # the 103 "London" records
    assert per_service.stations.sum() == 1399  # every record of the file
    stations_map = _chart_data(app, 5)
    assert len(stations_map) == 1399 - 25  # West Sussex's 25 carry a web address, no grid ref
    captions = " ".join(c.value for c in app.caption)
    assert "West Sussex: 25 of 25 stations have no grid reference" in captions


def test_national_picture_coterminosity(app):
    _page(app, "national")
    _choose(app, "police_force", "Kent")  # the force chosen above is where it starts
    assert _metrics(app)["Kent: main fire and rescue authority"] == "Kent"
    area = next(s for s in app.selectbox if s.label == "Police force area")
    area.set_value("E23000036").run()
    metrics = _metrics(app)
    # LAD16_CSP16_PFA16_Dec2016.csv: nine districts with PFA16NM "Avon and Somerset". In
    # lookup_ltla21_fra21.csv, four of them are in Avon (Bath and North East Somerset, Bristol,
    # North Somerset, South Gloucestershire), three in Devon & Somerset (Mendip, Sedgemoor,
    # South Somerset); Taunton Deane and West Somerset merged into Somerset West and Taunton, a
    # code the 2016 lookup does not hold. So Avon holds 4 of the 7 districts in both lookups.
    assert metrics["Avon and Somerset: main fire and rescue authority"] == "Avon"
    assert metrics["Avon and Somerset: districts in Avon"] == "4 of 7 (57%)"
    # The other way: all four of Avon's districts are in Avon and Somerset.
    assert metrics["Avon: main police force area"] == "Avon and Somerset"
    assert metrics["Avon: districts in Avon and Somerset"] == "4 of 4 (100%)"
    every = app.dataframe[0].value
    assert len(every) == 43 + 47  # every police force area and fire and rescue authority
    assert every.set_index("Area").loc["Avon and Somerset", "Co-terminous"] == "no"


# ---------------------------------------------------------------- a second, still partial night


def test_bids_with_nothing_measured_yet(second_night_home, monkeypatch):
    at = _app(second_night_home, monkeypatch)
    bids = at.dataframe[0].value
    assert bids.Bid.tolist() == ["B1", "B2"]
    info = _info(at)
    assert info.startswith("No benefits measured against the bids yet.")
    assert "`inbox/incidents/`" in info and "`inbox/bids/`" not in info
    _page(at, "bid")
    assert at.title[0].value == "B1: Bid B1"
    assert "No benefits measured for B1 yet." in _info(at)
    assert not at.get("vega_lite_chart")
    for page in PAGES:
        _page(at, page)


# ---------------------------------------------------------------- served, in Chromium


@pytest.mark.browser
def test_served_day_one_dashboard_in_headless_chromium(day_one_home, tmp_path):
    chromium = chromium_or_skip()
    texts, exceptions = {}, {}
    viewport = {"width": 1280, "height": 1000}
    with served_page(chromium, day_one_home, tmp_path, viewport=viewport) as (page, url, outside):
        # A laptop's width; each page's own height, so the screenshot holds all of it
        # (Streamlit scrolls inside the page, so a full-page shot is the window's size).
        for name, path, height, waits_for in (
            ("Overview", "", 1000, "bluelight sources bids --template"),
            ("National picture", "national", 7600, "Avon & Somerset, 30 Sep 2015"),
        ):
            page.set_viewport_size({"width": 1280, "height": height})
            page.get_by_role("link", name=name, exact=True).first.click()
            page.wait_for_url(f"{url}/{path}")
            page.get_by_text(waits_for).first.wait_for(timeout=30_000)
            page.get_by_text("Warehouse published by run").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)  # let the charts draw before the screenshot
            exceptions[name] = page.locator("[data-testid='stException']").count()
            texts[name] = page.locator("section.main, [data-testid='stMain']").inner_text()
            slug = path or "overview"
            page.screenshot(path=str(ARTIFACTS / f"day-one-{slug}.png"), full_page=True)
    assert exceptions == {"Overview": 0, "National picture": 0}
    assert outside == []  # nothing fetched from outside the machine: no tiles, fonts, icons
    overview = texts["Overview"]
    assert "No bids or benefits registers loaded yet." in overview
    assert "inbox/bids/" in overview and "inbox/benefits_register/" in overview
    national = texts["National picture"]
    # Table_1, "Avon & Somerset", 30 September 2015: 2686.14 police officers (FTE).
    assert "2,686.14 FTE" in national
    for heading in (
        "Police workforce",
        "Ambulance response",
        "Fire stations",
        "Police force areas and fire and rescue authorities",
    ):
        assert heading in national
    assert "C1 standard: mean 7 min and 90th centile 15 min" in national
    for slug in ("overview", "national"):
        assert (ARTIFACTS / f"day-one-{slug}.png").stat().st_size > 10_000
