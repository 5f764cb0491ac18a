"""The dashboard on a warehouse the tests built: the numbers shown, through AppTest and Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ARTIFACTS, run_flow
from handmade import write_handmade_inbox
from playwright.sync_api import sync_playwright
from streamlit.testing.v1 import AppTest

# Debian's chromium, headless, with nothing reaching out to the network (DESIGN.md).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def handmade_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("dashboard_home")
    write_handmade_inbox(home / "inbox")
    assert run_flow(home)["status"] == "succeeded"
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


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_headline_response_times_are_the_last_twelve_months_weighted_mean(app):
    # Testshire fire, months after May 2015: 5 May 2016 incidents (mean 9.2 min) and two in
    # June 2015 of 10 min each: (5 * 9.2 + 2 * 10) / 7 = 9.43 min. Othershire: one of 50 min.
    metrics = _metrics(app)
    assert metrics["Testshire: mean response, last 12 months"] == "9.4 min"
    assert metrics["Othershire: mean response, last 12 months"] == "50.0 min"


def test_category_filter_changes_the_figures(app):
    category = next(s for s in app.selectbox if s.label == "Incident category")
    assert category.options == ["all", "primary_fire"]
    category.set_value("primary_fire").run()
    assert _metrics(app)["Testshire: mean response, last 12 months"] == "9.4 min"


def test_a_chosen_bid_shows_each_benefit_against_its_target(app):
    bid = next(s for s in app.selectbox if s.label == "Bid")
    assert [o.split(":")[0] for o in bid.options] == ["B1", "B2"]
    labels_values = [(m.label, m.value) for m in app.metric]
    # B1's first benefit: call handling 100 s baseline, 40 s target, 80 s actual: amber.
    assert ("Status 2016-17", "Slipping") in labels_values
    assert ("Actual 2016-17", "80.0 s") in labels_values
    # B1's value: a quarter of the real saving (1,200,000 - 900,000 * 84.0/85.7), discounted a
    # year at 3.5%, against 120,000 deflated and discounted alike: NPV -36,866, ratio 0.68.
    assert ("Net present value", "-£36,866") in labels_values
    assert ("Benefit-cost ratio", "0.68") in labels_values
    assert ("Paid back in", "not yet") in labels_values
    attribution = [i.value for i in app.info]
    assert any("attributable to the project is **-230.0 s**" in text for text in attribution)
    bid.set_value(bid.options[1]).run()
    labels_values = [(m.label, m.value) for m in app.metric]
    # In 2015-16 prices: 900,000 and 250,000 of 2016-17 cash times 84.0/85.7.
    assert ("Actual 2016-17", "£882,147") in labels_values
    assert ("Actual 2016-17", "£245,041") in labels_values
    assert ("Status 2016-17", "Off track") in labels_values
    assert any("Bid B2" in md.value for md in app.markdown)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_served_dashboard_renders_in_headless_chromium(handmade_home, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    port = _free_port()
    env = {
        **os.environ,
        "BLUELIGHT_HOME": str(handmade_home),
        "BLUELIGHT_DASHBOARD_PORT": str(port),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "dashboard"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within 60 s")
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "dashboard.png"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(url)
            # The headline figure, rendered by the browser from the warehouse.
            page.get_by_text("9.4 min").first.wait_for(timeout=60_000)
            page.get_by_text("Actual 2016-17").first.wait_for(timeout=30_000)
            title = page.get_by_role("heading", level=1).first.inner_text()
            exceptions = page.locator("[data-testid='stException']").count()
            page.screenshot(path=str(screenshot), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert title == "Blue-light collaboration: are the benefits real?"
    assert exceptions == 0
    assert screenshot.exists() and screenshot.stat().st_size > 10_000
