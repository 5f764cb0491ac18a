"""Sign-in and roles end to end: the dashboard served by `bluelight dashboard` with sign-in
against a real OpenID Connect provider on loopback (tests/oidc.py), on a warehouse holding two
areas' bids (B1 and B2 in Testshire, B4 in Othershire), each user in Chromium as they would:
a commissioner of Othershire sees B4 and not B1, not even by its address; an auditor sees all
three; an account with no role is told whom to ask; an analyst uploads a file with a bad row,
sees the row named and finds the file in the inbox; the auditor downloads B4's evidence pack,
which the commissioner is not offered. The access log holds each of these, and
`bluelight access-log --verify` fails once a line of it is edited."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from conftest import CHROMIUM_FLAGS, bluelight, chromium_or_skip, settings_for
from handmade import fire_incident, write_rows
from oidc import keep_on_machine, oidc_provider, reached_beyond, served, sign_in, signin_settings

from flows.security import access_log

PACK = "Download the evidence pack (HTML)"

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


def incidents_with_a_bad_row(folder: Path) -> Path:
    """Three Othershire fires; the second (row 3) arrives five minutes before its call."""
    path = folder / "incidents_othershire.csv"
    call = datetime(2017, 5, 2, 10, 0, 0)
    rows = [fire_incident(20 + n, "D3", call, 60, r) for n, r in enumerate([480, -300, 420])]
    write_rows(path, "incidents", rows)
    return path


def upload(page, url: str, path: Path, problem: str) -> str:
    """Send `path` from the Upload page; the text of what the page says became of it, once it
    shows where the file went and the `problem` it found (a busy machine draws them in turn)."""
    page.goto(f"{url}/upload")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Placed in the inbox as").wait_for(timeout=60_000)
    page.get_by_test_id("stTable").get_by_text(problem).first.wait_for(timeout=60_000)
    return page.get_by_test_id("stMain").inner_text()


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


@pytest.fixture(scope="module")
def seen(home, tmp_path_factory) -> dict:
    """Each user signed in, in a browser context of their own, doing what the tests check:
    what the pages showed each of them, by user, and the file the analyst sent."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    logs = tmp_path_factory.mktemp("signin_logs")
    seen = {"sent": incidents_with_a_bad_row(logs)}
    with oidc_provider(logs) as provider:
        for sub, claims in USERS.items():
            provider.user(sub, **claims)
        settings = signin_settings(provider, home)
        with served(settings, logs) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)

            def signed_in(sub: str):
                context = browser.new_context(viewport={"width": 1280, "height": 1600})
                keep_on_machine(context)
                page = context.new_page()
                page.goto(url)
                sign_in(page, sub)
                return page

            chief = signed_in("chief")
            seen["chief"] = bid_options(chief, url)
            chief.goto(f"{url}/bid?bid=B1")
            chief.get_by_text("No bid B1 is among the bids you may see").wait_for(timeout=30_000)
            seen["chief by address"] = chief.inner_text("body")
            chief.goto(f"{url}/bid?bid=B4")
            chief.get_by_role("heading", name="B4: Bid B4").wait_for(timeout=30_000)
            with chief.expect_download(timeout=60_000) as download:
                chief.get_by_role("button", name=PACK).click()
            seen["chief's pack"] = Path(download.value.path()).read_bytes()
            auditor = signed_in("auditor")
            seen["auditor"] = bid_options(auditor, url)
            auditor.goto(f"{url}/access_log")
            auditor.get_by_text("The log is whole").wait_for(timeout=30_000)
            seen["auditor's access log"] = auditor.get_by_test_id("stMain").inner_text()
            auditor.goto(f"{url}/bid?bid=B4")
            auditor.get_by_role("heading", name="B4: Bid B4").wait_for(timeout=30_000)
            with auditor.expect_download(timeout=60_000) as download:
                auditor.get_by_role("button", name=PACK).click()
            seen["auditor's pack"] = Path(download.value.path()).read_bytes()
            stranger = signed_in("stranger")
            stranger.get_by_text("Ask for access").first.wait_for(timeout=30_000)
            seen["stranger"] = stranger.inner_text("body")
            analyst = signed_in("analyst")
            seen["analyst"] = upload(analyst, url, seen["sent"], "first arrival before the call")
            browser.close()
    seen["reached beyond"] = reached_beyond(logs)
    return seen


def entries(home: Path, event: str) -> list[dict]:
    log = settings_for(home).access_log
    return [e for _, e in access_log.entries(log) if e["event"] == event]


@pytest.mark.browser
def test_a_commissioner_sees_their_bid_and_not_another_areas_even_by_address(seen, home):
    assert seen["chief"] == ("B4: Bid B4", ["B4: Bid B4"])
    assert "B1: Bid B1" not in seen["chief by address"]
    refusals = {(e["who"], e["bid"]) for e in entries(home, "refusal")}
    assert ("chief@othershire.example", "B1") in refusals
    views = {(e["who"], e["page"], e["bid"]) for e in entries(home, "page-view")}
    assert ("chief@othershire.example", "Bid", "B4") in views


@pytest.mark.browser
def test_an_auditor_sees_both_areas_bids(seen, home):
    assert seen["auditor"][1] == ["B1: Bid B1", "B2: Bid B2", "B4: Bid B4"]
    views = {(e["who"], e["page"], e["bid"]) for e in entries(home, "page-view")}
    assert ("auditor@audit.example", "Bid", "B1") in views
    # The Access log page: the chain whole, and the auditor's own sign-in among its entries.
    assert "● The log is whole" in seen["auditor's access log"]
    assert ("auditor@audit.example", "Access log", None) in views


@pytest.mark.browser
def test_each_downloads_the_pack_within_their_access(seen, home, tmp_path):
    """The auditor's pack is `bluelight pack B4`'s; the Othershire commissioner's is the same
    bid read within F2's access, `bluelight pack B4 --within F2`'s, listing no Testshire file."""
    auditors, chiefs = seen["auditor's pack"], seen["chief's pack"]
    for argv, downloaded in ((("B4",), auditors), (("B4", "--within", "F2"), chiefs)):
        written = tmp_path / "pack.html"
        assert bluelight(home, "pack", *argv, "--out", str(written)) == 0
        assert downloaded == written.read_bytes()
    assert b"bids/bids.csv" in auditors and b"bids/bids.csv" not in chiefs
    exports = {(e["who"], e["bid"], e["sha256"]) for e in entries(home, "export")}
    assert {
        ("chief@othershire.example", "B4", hashlib.sha256(chiefs).hexdigest()),
        ("auditor@audit.example", "B4", hashlib.sha256(auditors).hexdigest()),
    } <= exports


@pytest.mark.browser
def test_an_unknown_account_is_told_whom_to_ask_and_sees_nothing(seen, home):
    body = seen["stranger"]
    assert "stranger@example.org" in body and "Pat at the PCC office" in body
    assert "Bid B" not in body
    assert ("stranger@example.org", None) in {
        (e["who"], e["bid"]) for e in entries(home, "refusal")
    }
    assert "stranger@example.org" not in {e["who"] for e in entries(home, "page-view")}


@pytest.mark.browser
def test_an_analyst_uploads_a_file_sees_its_bad_row_and_finds_it_in_the_inbox(seen, home):
    said = seen["analyst"]
    assert "load with rows quarantined" in said
    assert "first_arrival_time" in said and "first arrival before the call" in said
    assert "\n3\t" in said or "\n3\n" in said  # the row, as the table shows it
    sent = seen["sent"].read_bytes()
    [placed] = settings_for(home).inbox.glob("incidents/incidents_othershire_*.csv")
    assert placed.read_bytes() == sent
    sidecar = json.loads(placed.with_name(f".{placed.name}.sender.json").read_text())
    assert sidecar["sender"] == "analyst@othershire.example"
    [uploaded] = entries(home, "upload")
    assert uploaded["who"] == "analyst@othershire.example"
    assert uploaded["sha256"] == hashlib.sha256(sent).hexdigest()


@pytest.mark.browser
def test_each_sign_in_is_logged_nothing_left_the_machine_and_an_edit_shows(seen, home):
    assert {e["who"] for e in entries(home, "sign-in")} == {u["email"] for u in USERS.values()}
    assert seen["reached beyond"] == []
    log = settings_for(home).access_log
    assert bluelight(home, "access-log", "--verify") == 0
    lines = log.read_text().splitlines(keepends=True)
    edited = json.loads(lines[1])
    edited["who"] = "someone.else@example.org"
    lines[1] = json.dumps(edited, separators=(",", ":")) + "\n"
    log.write_text("".join(lines))
    assert bluelight(home, "access-log", "--verify") == 1
    assert access_log.verify(log).line == 2
