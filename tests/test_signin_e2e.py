"""Sign-in and roles end to end: the dashboard served by `bluelight dashboard` with sign-in
against a real OpenID Connect provider on loopback (tests/oidc.py), on a warehouse holding two
areas' bids (B1 and B2 in Testshire, B4 in Othershire), each user in Chromium as they would:
a commissioner of Othershire sees B4 and not B1, not even by its address; an auditor sees all
three; an account with no role is told whom to ask; an analyst uploads a file with a bad row,
sees the row named and finds the file in the inbox. The access log holds each of these, and
`bluelight access-log --verify` fails once a line of it is edited."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM_FLAGS, bluelight, chromium_or_skip, settings_for
from oidc import keep_on_machine, oidc_provider, reached_beyond, served, sign_in, signin_settings

from flows.security import access_log

ACCESS_FILE = """
ask = "Pat at the PCC office"

[[grant]]
group = "othershire-fire"
role = "commissioner"
organisations = ["F2"]

[[grant]]
group = "othershire-analysts"
role = "analyst"
organisations = ["F2"]

[[grant]]
email = "auditor@audit.example"
role = "auditor"
"""
USERS = {
    "chief": {"email": "chief@othershire.example", "groups": ["othershire-fire"]},
    "auditor": {"email": "auditor@audit.example", "groups": []},
    "stranger": {"email": "stranger@example.org", "groups": ["someone-else"]},
    "analyst": {"email": "analyst@othershire.example", "groups": ["othershire-analysts"]},
}


@pytest.fixture(scope="module")
def home(two_areas_home, tmp_path_factory) -> Path:
    """A data directory of its own holding the two areas' published warehouse and the access
    file; the access log starts empty."""
    home = tmp_path_factory.mktemp("signin_home")
    source, target = settings_for(two_areas_home), settings_for(home)
    target.warehouse_dir.mkdir(parents=True)
    shutil.copyfile(source.published_db, target.published_db)
    shutil.copyfile(source.run_log, target.run_log)
    target.access_file.write_text(ACCESS_FILE)
    return home


def bid_options(page, url: str) -> tuple[str, list[str]]:
    """On the Bid page: its title, and the bids its sidebar chooser offers."""
    page.goto(f"{url}/bid")
    title = page.get_by_test_id("stHeading").first
    title.wait_for(timeout=30_000)
    chooser = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox")
    chooser.filter(has_text="Bid").click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return title.inner_text(), sorted(options)


@pytest.mark.browser
def test_each_role_signs_in_and_sees_what_it_is_granted(home, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    with oidc_provider(tmp_path) as provider:
        for sub, claims in USERS.items():
            provider.user(sub, **claims)
        settings = signin_settings(provider, home)
        with served(settings, tmp_path) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)

            def signed_in(sub: str):
                context = browser.new_context(viewport={"width": 1280, "height": 1600})
                keep_on_machine(context)
                page = context.new_page()
                page.goto(url)
                sign_in(page, sub)
                return page

            chief = signed_in("chief")
            assert bid_options(chief, url) == ("B4: Bid B4", ["B4: Bid B4"])
            chief.goto(f"{url}/bid?bid=B1")
            chief.get_by_text("No bid B1 is among the bids you may see").wait_for(timeout=30_000)
            assert "B1: Bid B1" not in chief.inner_text("body")

            auditor = signed_in("auditor")
            title, options = bid_options(auditor, url)
            assert options == ["B1: Bid B1", "B2: Bid B2", "B4: Bid B4"]

            stranger = signed_in("stranger")
            stranger.get_by_text("Ask for access").first.wait_for(timeout=30_000)
            body = stranger.inner_text("body")
            assert "stranger@example.org" in body and "Pat at the PCC office" in body
            assert "Bid B" not in body
            browser.close()
    assert reached_beyond(tmp_path) == []

    log = settings_for(home).access_log
    entries = [entry for _, entry in access_log.entries(log)]
    signed = {e["who"] for e in entries if e["event"] == "sign-in"}
    assert signed == {USERS[u]["email"] for u in ("chief", "auditor", "stranger")}
    refusals = {(e["who"], e["bid"]) for e in entries if e["event"] == "refusal"}
    assert ("chief@othershire.example", "B1") in refusals
    assert ("stranger@example.org", None) in refusals
    views = {(e["who"], e["page"], e["bid"]) for e in entries if e["event"] == "page-view"}
    assert ("chief@othershire.example", "Bid", "B4") in views
    assert ("auditor@audit.example", "Bid", "B1") in views
    assert not any(e["who"] == "stranger@example.org" for e in entries if e["event"] == "page-view")

    # The log is whole; edit one line of it and --verify names that line.
    assert bluelight(home, "access-log", "--verify") == 0
    lines = log.read_text().splitlines(keepends=True)
    edited = json.loads(lines[1])
    edited["who"] = "someone.else@example.org"
    lines[1] = json.dumps(edited, separators=(",", ":")) + "\n"
    log.write_text("".join(lines))
    assert bluelight(home, "access-log", "--verify") == 1
    assert access_log.verify(log).line == 2
