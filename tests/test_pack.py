"""The evidence pack (dashboard/pack/, `bluelight pack`) on the demo warehouse built by one real
night (conftest's demo_home): the figures and the lineage as the warehouse holds them, read back
with an HTML parser and, from the PDF, with pypdf; the same pack twice, byte for byte; an older
kept version's figure; every bid's pack (--all); the panel report (--portfolio) and its scope;
and the exit status for a bid or a version that is not there.

The pack is made in a data directory of its own whose published warehouse is a hard link to the
demo's (a published file is never written), beside an earlier kept version made by hand from a
copy with a figure changed and one bid moved to another county, as tests/test_dashboard.py does."""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pypdf
import pytest
from conftest import bluelight, settings_for

from dashboard import ui
from dashboard.bid import money
from flows.security import access_log
from flows.warehouse import publish

ROOT = Path(__file__).resolve().parents[1]
EARLIER_RUN = "20160101T000000-before"
EARLIER_NPV = -40000.0
BIDS = ("PIF-2014-NM01", "PIF-2014-NM02", "PIF-2016-NM03")
ELSEWHERE = "Southvale"  # the county BIDS[2] is in, in the earlier version only
# The sources the bid marts are built from in the demo (audit.mart_readiness): the lineage lists
# every file loaded from them.
BID_SOURCES = ("benefits_register", "bid_costs", "bids", "boundaries", "estates", "incidents")


class Pack(HTMLParser):
    """What a reader finds in a pack: the text of each cell marked data-figure, the sha256 cells
    of the lineage, each chart's attributes, the headings' levels in order and every table
    header's scope."""

    def __init__(self, text: str):
        super().__init__()
        self.figures: dict[str, str] = {}
        self.hashes: list[str] = []
        self.charts: list[dict] = []
        self.headings: list[int] = []
        self.header_scopes: list[str | None] = []
        self._into: tuple[str, str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-figure" in attrs:
            self._into = ("figure", attrs["data-figure"])
        elif attrs.get("class") == "sha":
            self._into = ("sha", "")
        if tag == "svg" and attrs.get("class") == "marks":
            self.charts.append(attrs)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "th":
            self.header_scopes.append(attrs.get("scope"))

    def handle_data(self, data):
        if self._into and self._into[0] == "figure":
            self.figures[self._into[1]] = self.figures.get(self._into[1], "") + data
        elif self._into:
            self.hashes.append(data)

    def handle_endtag(self, tag):
        if tag == "td":
            self._into = None


@pytest.fixture(scope="module")
def pack_home(demo_home, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("pack_home")
    published = settings_for(home).published_db
    published.parent.mkdir(parents=True)
    os.link(settings_for(demo_home).published_db, published)
    run_id, _finished = publish.publishing_run(published)
    earlier = publish.version_path(published, EARLIER_RUN)
    earlier.parent.mkdir()
    shutil.copyfile(published, earlier)
    os.chmod(earlier, 0o644)
    with duckdb.connect(str(earlier)) as con:
        con.execute(
            "update marts.fct_bid_value set npv_gbp = ? where bid_id = ?", [EARLIER_NPV, BIDS[1]]
        )
        con.execute("update marts.dim_bids set county = ? where bid_id = ?", [ELSEWHERE, BIDS[2]])
        for table in ("load_runs", "quality_results"):
            con.execute(
                f"update audit.{table} set run_id = ? where run_id = ?", [EARLIER_RUN, run_id]
            )
    os.chmod(earlier, publish.READ_ONLY)
    return home


def _marts(home: Path, sql: str, params: list) -> list[tuple]:
    with duckdb.connect(str(settings_for(home).published_db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def _pack(home: Path, out: Path, *argv: str) -> Pack:
    assert bluelight(home, "pack", *argv, "--out", str(out)) == 0
    return Pack(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("bid_id", BIDS)
def test_the_pack_shows_the_figures_as_the_warehouse_holds_them(pack_home, tmp_path, bid_id):
    pack = _pack(pack_home, tmp_path / "pack.html", bid_id)
    ((npv, bcr, payback),) = _marts(
        pack_home,
        "select npv_gbp, benefit_cost_ratio, payback_year from marts.fct_bid_value "
        "where bid_id = ?",
        [bid_id],
    )
    assert pack.figures["npv"] == ui.pounds(npv)
    assert pack.figures["bcr"] == money.ratio(bcr)
    assert pack.figures["payback"] == (payback or "not yet")
    latest = _marts(
        pack_home,
        """select benefit_id, actual_value, unit from marts.fct_benefit_realisation
           where bid_id = ? and is_complete_period
           qualify row_number() over (partition by benefit_id order by financial_year desc) = 1""",
        [bid_id],
    )
    assert latest
    for benefit_id, actual, unit in latest:
        assert pack.figures[f"realised-{benefit_id}"] == ui.value_in_unit(actual, unit)


def test_the_lineage_lists_every_source_file_behind_the_figures(pack_home, tmp_path):
    pack = _pack(pack_home, tmp_path / "pack.html", BIDS[0])
    loaded = _marts(
        pack_home,
        "select sha256 from audit.loaded_files where list_contains(?, source)",
        [list(BID_SOURCES)],
    )
    assert len(loaded) > 80  # the demo's incidents come in 84 monthly files
    assert sorted(pack.hashes) == sorted(sha for (sha,) in loaded)


def test_the_pack_is_accessible_on_paper(pack_home, tmp_path):
    out = tmp_path / "pack.html"
    pack = _pack(pack_home, out, BIDS[1])
    text = out.read_text(encoding="utf-8")
    assert "http" not in text.replace("http://www.w3.org/", "")  # nothing fetched from outside
    assert "@page" in text and "size: A4" in text and "counter(page)" in text
    # the sensitivity, a profile per benefit, and each attribution its checks confirm
    ((profiled,),) = _marts(
        pack_home,
        """select count(distinct benefit_id) from marts.fct_benefit_realisation
           where bid_id = ? and is_complete_period""",
        [BIDS[1]],
    )
    ((reliable,),) = _marts(
        pack_home,
        """select count(*) from marts.fct_benefit_attribution
           where bid_id = ? and estimate is not null and is_reliable""",
        [BIDS[1]],
    )
    assert profiled == 2 and reliable >= 1
    assert len(pack.charts) == 1 + profiled + reliable
    assert all(c["role"] == "img" and c["aria-label"].endswith(".") for c in pack.charts)
    assert pack.headings[0] == 1
    assert all(b - a <= 1 for a, b in zip(pack.headings, pack.headings[1:], strict=False))
    assert set(pack.header_scopes) == {"col", "row"}
    assert ui.status_text("green") in text  # status as a mark and words, not colour alone


def test_two_builds_of_a_pack_are_the_same_bytes(pack_home, tmp_path):
    _pack(pack_home, tmp_path / "here.html", BIDS[0])
    subprocess.run(
        [sys.executable, "-m", "flows.cli", "pack", BIDS[0], "--out", str(tmp_path / "there.html")],
        env={**os.environ, "BLUELIGHT_HOME": str(pack_home), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        check=True,
    )
    assert (tmp_path / "here.html").read_bytes() == (tmp_path / "there.html").read_bytes()


def test_a_pack_from_an_older_version_shows_its_figures(pack_home, tmp_path):
    now = _pack(pack_home, tmp_path / "now.html", BIDS[1])
    before = _pack(pack_home, tmp_path / "before.html", BIDS[1], "--version", EARLIER_RUN)
    assert before.figures["npv"] == ui.pounds(EARLIER_NPV)
    assert now.figures["npv"] != before.figures["npv"]
    text = (tmp_path / "before.html").read_text(encoding="utf-8")
    assert f"bluelight pack {BIDS[1]} --version {EARLIER_RUN}" in text


def test_the_default_file_is_named_by_bid_and_version(pack_home, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert bluelight(pack_home, "pack", BIDS[2]) == 0
    run_id, _finished = publish.publishing_run(settings_for(pack_home).published_db)
    written = tmp_path / f"pack-{BIDS[2]}-{run_id}.html"
    assert written.exists()
    assert str(written.name) in capsys.readouterr().out


def test_each_pack_written_is_logged_as_an_export_first(pack_home, tmp_path, monkeypatch, capsys):
    log = tmp_path / "access" / "access.jsonl"
    monkeypatch.setenv("BLUELIGHT_ACCESS_LOG", str(log))
    out = tmp_path / "logged.html"
    assert bluelight(pack_home, "pack", BIDS[0], "--out", str(out)) == 0
    [(_, entry)] = access_log.entries(log)
    assert (entry["event"], entry["who"], entry["bid"]) == (
        "export",
        f"{pwd.getpwuid(os.geteuid()).pw_name} (command line)",
        BIDS[0],
    )
    assert entry["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    # A log whose newest entry is gone takes no entry: the pack is not written either.
    log.write_text("")
    again = tmp_path / "unlogged.html"
    assert bluelight(pack_home, "pack", BIDS[0], "--out", str(again)) == 1
    assert "access log" in capsys.readouterr().err and not again.exists()


def test_a_bid_or_version_that_is_not_there_exits_2_naming_what_is(pack_home, tmp_path, capsys):
    assert bluelight(pack_home, "pack", "PIF-1999-XX01", "--out", str(tmp_path / "x.html")) == 2
    said = capsys.readouterr().err
    assert "PIF-1999-XX01" in said and all(b in said for b in BIDS)
    assert bluelight(pack_home, "pack", BIDS[0], "--version", "19990101T000000-none") == 2
    said = capsys.readouterr().err
    assert EARLIER_RUN in said and "bluelight versions" in said
    assert not (tmp_path / "x.html").exists()
    assert bluelight(pack_home, "pack", "--portfolio", "--scope", "Nowhere") == 2
    assert "Northmoor" in capsys.readouterr().err
    assert bluelight(pack_home, "pack") == 2
    assert bluelight(pack_home, "pack", BIDS[0], "--all") == 2
    assert "--portfolio" in capsys.readouterr().err


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_holds_the_figures_lineage_page_numbers_and_contents(pack_home, tmp_path):
    bid_id = BIDS[1]
    out = tmp_path / "pack.pdf"
    assert bluelight(pack_home, "pack", bid_id, "--format", "pdf", "--out", str(out)) == 0
    pages = _pdf_text(out)
    text = _bare("".join(pages))
    ((npv, bcr, payback),) = _marts(
        pack_home,
        "select npv_gbp, benefit_cost_ratio, payback_year from marts.fct_bid_value "
        "where bid_id = ?",
        [bid_id],
    )
    assert _bare(f"Net present value to date{ui.pounds(npv)}") in text
    assert _bare(f"Benefit-cost ratio to date{money.ratio(bcr)}") in text
    assert _bare(f"Paid back in{payback or 'not yet'}") in text
    latest = _marts(
        pack_home,
        """select benefit_id, actual_value, unit from marts.fct_benefit_realisation
           where bid_id = ? and is_complete_period
           qualify row_number() over (partition by benefit_id order by financial_year desc) = 1""",
        [bid_id],
    )
    assert len(latest) == 2
    for _benefit, actual, unit in latest:
        assert _bare(ui.value_in_unit(actual, unit)) in text
    loaded = _marts(
        pack_home,
        "select sha256 from audit.loaded_files where list_contains(?, source)",
        [list(BID_SOURCES)],
    )
    assert all(sha in text for (sha,) in loaded)
    assert all(sha in "".join(pages) for (sha,) in loaded)  # each printed whole, on one line
    # page numbers, and the contents' page number of the money is the page its heading is on
    assert all(p.rstrip().endswith(f"Page {i} of {len(pages)}") for i, p in enumerate(pages, 1))
    contents = re.search(r"The money \.+\s*(\d+)", pages[0])
    assert contents
    money_page = next(i for i, p in enumerate(pages, 1) if i > 1 and "\nThe money\n" in p)
    assert int(contents[1]) == money_page
    # tagged, with its language and title
    reader = pypdf.PdfReader(out)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title == f"Evidence pack: {bid_id}: {_title(pack_home, bid_id)}"
    _run_id, published_at = publish.publishing_run(settings_for(pack_home).published_db)
    assert reader.metadata["/CreationDate"] == f"D:{published_at:%Y%m%d}"  # the version's day
    html = _pack(pack_home, tmp_path / "pack.html", bid_id)
    assert len(html.charts) >= 3
    assert _figure_alts(root["/StructTreeRoot"]) == [c["aria-label"] for c in html.charts]


def _figure_alts(node) -> list[str]:
    """The alt text of each Figure in a PDF's structure tree, in order."""
    node = node.get_object()
    if isinstance(node, pypdf.generic.ArrayObject):
        return [alt for child in node for alt in _figure_alts(child)]
    if not isinstance(node, pypdf.generic.DictionaryObject):
        return []
    mine = [str(node["/Alt"])] if node.get("/S") == "/Figure" and "/Alt" in node else []
    return mine + (_figure_alts(node["/K"]) if "/K" in node else [])


def test_two_pdfs_of_a_pack_are_the_same_bytes(pack_home, tmp_path):
    from dashboard.pack import gather, render

    html = render.html(gather.gather(BIDS[2], settings_for(pack_home).published_db))
    assert render.pdf(html) == render.pdf(html)


def test_the_pdf_fetches_nothing(tmp_path):
    from dashboard.pack import render

    with pytest.raises(BaseException, match="fetch"):
        render.pdf(
            '<html lang="en"><title>t</title><img src="http://example.invalid/x.png" alt="x">'
        )


def _title(home: Path, bid_id: str) -> str:
    ((title,),) = _marts(home, "select title from marts.dim_bids where bid_id = ?", [bid_id])
    return title


def test_all_writes_every_bids_pack_with_a_line_each(pack_home, tmp_path, capsys):
    assert bluelight(pack_home, "pack", "--all", "--out", str(tmp_path / "packs")) == 0
    run_id, _finished = publish.publishing_run(settings_for(pack_home).published_db)
    written = sorted(p.name for p in (tmp_path / "packs").iterdir())
    assert written == [f"pack-{b}-{run_id}.html" for b in BIDS]
    said = capsys.readouterr().out.splitlines()
    assert [line.split("] ")[1].split()[0] for line in said[:3]] == ["1/3", "2/3", "3/3"]
    for bid_id in BIDS:
        pack = Pack((tmp_path / "packs" / f"pack-{bid_id}-{run_id}.html").read_text("utf-8"))
        assert pack.figures["npv"] == ui.pounds(
            _marts(pack_home, "select npv_gbp from marts.fct_bid_value where bid_id = ?", [bid_id])[
                0
            ][0]
        )


class Headings(HTMLParser):
    """Each heading's level and text, in order."""

    def __init__(self, text: str):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self._level: int | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._level = int(tag[1])
            self.headings.append((self._level, ""))

    def handle_data(self, data):
        if self._level is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag):
            self._level = None


def test_the_portfolio_summarises_every_bid_then_gives_each_its_pages(pack_home, tmp_path):
    out = tmp_path / "panel.html"
    assert bluelight(pack_home, "pack", "--portfolio", "--out", str(out)) == 0
    text = out.read_text("utf-8")
    pack = Pack(text)
    values = _marts(
        pack_home, "select bid_id, npv_gbp, benefit_cost_ratio from marts.fct_bid_value", []
    )
    assert len(values) == len(BIDS)
    for bid_id, npv, bcr in values:
        assert pack.figures[f"npv-{bid_id}"] == ui.pounds(npv)
        assert pack.figures[f"bcr-{bid_id}"] == money.ratio(bcr)
    headings = Headings(text).headings
    names = [f"{b}: {_title(pack_home, b)}" for b in BIDS]
    assert [t for level, t in headings if level == 2 and t in names] == names
    assert all(b - a <= 1 for (a, _), (b, _) in zip(headings, headings[1:], strict=False))
    assert [t for _, t in headings].count("Appendix: lineage") == 1
    # compared with the kept version before: the earlier NPV of BIDS[1], the others unchanged
    assert f"against the kept version published by run\n<strong>{EARLIER_RUN}</strong>" in text
    assert f"NPV {ui.pounds(EARLIER_NPV)} to {pack.figures['npv-' + BIDS[1]]}" in text
    assert text.count('<td class="changed">no change</td>') == 2


def test_the_portfolio_scope_leaves_other_counties_out(pack_home, tmp_path):
    out = tmp_path / "panel.html"
    argv = ("pack", "--portfolio", "--version", EARLIER_RUN, "--out", str(out))
    names = [f"{b}: {_title(pack_home, b)}" for b in BIDS]

    def shown() -> tuple[set[str], list[str]]:
        text = out.read_text("utf-8")
        in_summary = {k.removeprefix("npv-") for k in Pack(text).figures if k.startswith("npv-")}
        return in_summary, [t for level, t in Headings(text).headings if level == 2 and t in names]

    assert bluelight(pack_home, *argv, "--scope", "Northmoor") == 0
    assert shown() == (set(BIDS[:2]), names[:2])
    assert bluelight(pack_home, *argv, "--scope", ELSEWHERE) == 0
    assert shown() == ({BIDS[2]}, names[2:])
    assert "no earlier version is kept" in out.read_text("utf-8")
