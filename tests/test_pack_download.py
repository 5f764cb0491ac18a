"""The evidence pack downloaded from the Bid page (dashboard/bid/pack.py) on the two areas'
warehouse (conftest's two_areas_home: B1 and B2 in Testshire, B4 in Othershire): offered to every
reader of the Bid page, made within the reader's scope, only when asked for; in Chromium on a
served dashboard, the very bytes `bluelight pack` writes for that bid and version (with
`--within` the reader's organisations for a commissioner), logged as an export with their sha256;
and never made from a version other than the one the page offered."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
from pathlib import Path

import pytest
import test_roles
from conftest import bluelight, chromium_or_skip, served_page, settings_for

from dashboard.bid import pack
from flows.security import access_log, roles
from flows.warehouse import publish

LABEL = "Download the evidence pack (HTML)"
PDF_LABEL = "Download the evidence pack (PDF)"
signed_in_app = test_roles.signed_in_app  # the app run as a signed-in account of the two areas


def test_an_auditor_is_offered_the_pack_and_it_is_made_only_when_asked(signed_in_app, tmp_path):
    at = signed_in_app("auditor@audit.example", query={"bid": "B4"})
    at.switch_page("views/bid.py").run()
    assert not at.exception
    assert at.title[0].value.startswith("B4")
    # The pack above the page's CSVs, one under each chart and table.
    labels = [b.label for b in at.get("download_button")]
    assert labels[:2] == [LABEL, PDF_LABEL] and set(labels[2:]) == {"Download the data (CSV)"}
    exports = [e for e in test_roles.log_of(tmp_path) if e["event"] == "export"]
    assert exports == []  # nothing made until asked for


def test_a_commissioner_is_offered_the_pack_of_their_bid(signed_in_app, tmp_path):
    at = signed_in_app("chief@othershire.example", ["othershire-fire"])
    at.switch_page("views/bid.py").run()
    assert not at.exception
    assert at.title[0].value.startswith("B4")
    assert [b.label for b in at.get("download_button")][:2] == [LABEL, PDF_LABEL]


def test_a_pack_within_a_commissioners_scope_holds_their_files_and_says_so(
    two_areas_home, tmp_path, capsys
):
    """Othershire's fire authority (F2): B4's pack lists the files that concern Othershire and
    the checks' outcomes, names the command that rebuilds it, and is that command's bytes."""
    from dashboard import warehouse
    from dashboard.pack import gather
    from flows.security import roles

    published = settings_for(two_areas_home).published_db
    version = warehouse.version(published)
    othershire = roles.Scope(frozenset({"F2"}), False)
    made = pack.make("B4", published, version, "html", othershire).decode()
    files = {row[1] for row in pack_tables(made)["lineage"]}
    assert files == {
        "boundaries/districts.csv",
        "incidents/fire.csv",  # Othershire's fires are among its rows
        "estates/othershire.csv",  # estates are behind estate benefits; Testshire's are not here
        "bids/bids_b4.csv",
        "benefits_register/B4.xlsx",
    }
    assert f"bluelight pack B4 --version {version} --within F2" in made
    assert "Made within the access of F2" in made
    whole = pack.make("B4", published, version, "html", roles.EVERYTHING).decode()
    assert "bids/bids.csv" in whole and "Made within the access" not in whole
    out = tmp_path / "b4.html"
    argv = ("pack", "B4", "--within", "F2", "--out", str(out))
    assert bluelight(two_areas_home, *argv) == 0
    assert out.read_text() == made
    # Another area's bid is not within it, however asked for; an unknown code is named.
    with pytest.raises(gather.NoSuchBid):
        pack.make("B1", published, version, "html", othershire)
    capsys.readouterr()
    assert bluelight(two_areas_home, "pack", "B1", "--within", "F2", "--out", str(out)) == 2
    assert "No bid B1 in the warehouse" in (said := capsys.readouterr().err)
    assert "within the access of F2. Bids within the access of F2: B4." in said
    assert bluelight(two_areas_home, "pack", "B4", "--within", "F2,X9", "--out", str(out)) == 2
    said = capsys.readouterr().err
    assert "no organisation X9" in said and "F2 (Test Fire F2)" in said


def pack_tables(document: str) -> dict[str, list[list[str]]]:
    """The rows of the pack's lineage table (by its class), cells as text."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.current, self.cell = {}, None, None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.current = self.tables.setdefault(dict(attrs).get("class") or "", [])
            elif tag == "tr" and self.current is not None:
                self.current.append([])
            elif tag == "td" and self.current is not None:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None:
                self.current[-1].append(self.cell)
                self.cell = None
            elif tag == "table":
                self.current = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Rows()
    parser.feed(document)
    return {name: [r for r in rows if r] for name, rows in parser.tables.items()}


@pytest.fixture(scope="module")
def home(two_areas_home, tmp_path_factory) -> Path:
    """A data directory of its own holding the two areas' published warehouse, kept as its
    version too (a hard link, as a night keeps it): the access log starts empty."""
    home = tmp_path_factory.mktemp("pack_download_home")
    source, target = settings_for(two_areas_home), settings_for(home)
    target.warehouse_dir.mkdir(parents=True)
    shutil.copyfile(source.published_db, target.published_db)
    shutil.copyfile(source.run_log, target.run_log)
    publish.keep_version(target.published_db)
    return home


@pytest.mark.browser
def test_the_pack_downloaded_in_chromium_is_the_one_bluelight_pack_writes(home, tmp_path):
    chromium = chromium_or_skip()
    with served_page(chromium, home, tmp_path, accept_downloads=True) as (page, url, outside):
        page.goto(f"{url}/bid?bid=B4")
        page.get_by_role("heading", name="B4: Bid B4").wait_for(timeout=60_000)
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name=LABEL).click()
        downloaded = Path(download.value.path()).read_bytes()
        name = download.value.suggested_filename
    assert outside == []
    written = tmp_path / "written.html"
    assert bluelight(home, "pack", "B4", "--out", str(written)) == 0
    assert downloaded == written.read_bytes()
    sha256 = hashlib.sha256(downloaded).hexdigest()
    version = publish.publishing_run(settings_for(home).published_db)[0]
    assert name == f"pack-B4-{version}.html"
    exports = [
        e for _, e in access_log.entries(settings_for(home).access_log) if e["event"] == "export"
    ]
    # The download, then the command: the same bytes, each logged as an export.
    html = {"format": "html", "within": None}
    command_line = f"{pwd.getpwuid(os.geteuid()).pw_name} (command line)"
    assert [(e["who"], e["page"], e["bid"], e["sha256"], e["detail"]) for e in exports] == [
        ("local", "Bid", "B4", sha256, {"file": name, "format": "html"}),
        (command_line, "bluelight pack", "B4", sha256, {**html, "file": str(written)}),
    ]


def test_a_pack_asked_for_after_another_publish_is_refused_not_misnamed(home):
    # The page offered the version "20160101T000000-earlier"; the file now holds another.
    published = settings_for(home).published_db
    with pytest.raises(RuntimeError, match="not 20160101T000000-earlier"):
        pack.make("B4", published, "20160101T000000-earlier", "html", roles.EVERYTHING)


def test_the_pdf_made_for_the_bid_page_is_the_one_the_command_writes(two_areas_home, tmp_path):
    """The PDF button's bytes: `bluelight pack B4 --format pdf`'s, byte for byte."""
    from conftest import bluelight, settings_for

    published = settings_for(two_areas_home).published_db
    from dashboard import warehouse

    version = warehouse.version(published)
    made = pack.make("B4", published, version, "pdf", roles.EVERYTHING)
    out = tmp_path / "b4.pdf"
    assert bluelight(two_areas_home, "pack", "B4", "--format", "pdf", "--out", str(out)) == 0
    assert made.startswith(b"%PDF") and made == out.read_bytes()
