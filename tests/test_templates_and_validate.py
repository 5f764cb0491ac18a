"""Templates an agency fills in, and `bluelight validate`, which judges a file as a load would
without loading it: the templates of every agency source load cleanly in a real night, and a
validated file's verdict, problems and exit status are the load's, with nothing written."""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import pytest
from conftest import bluelight, published_night, run_flow, settings_for
from handmade import write_handmade_inbox
from openpyxl import load_workbook

from flows.load import validate
from flows.sources import templates
from flows.sources.contracts import SOURCES

AGENCY = [name for name, source in SOURCES.items() if source.kind == "agency"]


def test_every_agency_source_has_a_whole_example_row():
    for name in AGENCY:
        assert sorted(SOURCES[name].example) == sorted(SOURCES[name].column_names), name


def test_templates_of_every_agency_source_load_cleanly(tmp_path):
    """Both formats of every agency template in one night: each file loads its one row."""
    home = tmp_path / "home"
    for name in AGENCY:
        for fmt in templates.FORMATS:
            out = home / "inbox" / name / f"template.{fmt}"
            argv = ["sources", name, "--template", "--format", fmt, "--out", str(out)]
            assert bluelight(home, *argv) == 0
    result = run_flow(home)
    outcomes = {o["path"]: o for o in result["outcomes"]}
    assert sorted(outcomes) == sorted(
        f"{name}/template.{fmt}" for name in AGENCY for fmt in templates.FORMATS
    )
    for path, outcome in outcomes.items():
        assert (outcome["status"], outcome["rows"], outcome["quarantined"]) == ("loaded", 1, 0), (
            path
        )
    assert result["status"] == "succeeded", result


def test_the_xlsx_template_describes_each_column(tmp_path):
    path = templates.write_template("benefits_register", "xlsx", tmp_path / "register.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["benefits_register", "Columns"]
    data = list(book["benefits_register"].iter_rows(values_only=True))
    assert list(data[0]) == SOURCES["benefits_register"].column_names
    assert len(data) == 2
    described = {row[0]: row for row in book["Columns"].iter_rows(min_row=2, values_only=True)}
    assert list(described) == SOURCES["benefits_register"].column_names
    assert described["category"][1:3] == ("required", "varchar")
    assert described["category"][5] == "cashable, non_cashable, non_financial, dis_benefit"
    assert described["attribution_share"][5] == "from 0 to 1"
    assert described["baseline_period"][5] == r"matches \d{4}-\d{2}"
    assert described["target_date"][3].startswith("ISO 2016-04-01")


def test_no_template_for_published_statistics_or_an_unknown_source(tmp_path, capsys):
    assert bluelight(tmp_path, "sources", "ambsys", "--template") == 2
    assert "published by NHS England" in capsys.readouterr().err
    assert bluelight(tmp_path, "sources", "parking", "--template") == 2
    assert "no source 'parking'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def handmade_home(tmp_path_factory):
    home, _result = published_night(tmp_path_factory, "validate_home", write_handmade_inbox)
    return home


def _tree_digest(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_validate_names_each_problem_and_writes_nothing(handmade_home, tmp_path, capsys):
    """Against a published warehouse whose boundaries hold D1..D3: an incident in an unknown
    district and one with a word for a time are named by row, column and rule, exit status 0
    (the good row would load); a file without a required column is rejected, exit status 1."""
    before = _tree_digest(handmade_home)
    sent = tmp_path / "incidents" / "night.csv"
    sent.parent.mkdir()
    columns = SOURCES["incidents"].column_names
    rows = [
        "G1,fire,rtc,D1,2016-05-02 10:00:00,2016-05-02 10:01:00,,2016-05-02 10:09:00",
        "G2,fire,rtc,ZZ9,2016-05-02 11:00:00,2016-05-02 11:01:00,,2016-05-02 11:09:00",
        "G3,fire,rtc,D2,2016-05-02 12:00:00,soon,,2016-05-02 12:09:00",
    ]
    sent.write_text("\n".join([",".join(columns), *rows]) + "\n")
    assert bluelight(handmade_home, "validate", str(sent)) == 0
    out = capsys.readouterr().out
    assert (
        "incidents/night.csv (incidents): load with rows quarantined; 3 row(s), 2 set aside" in out
    )
    assert (
        "incidents/night.csv: row 3, district_code: unknown district_code: not in boundaries "
        "(value 'ZZ9')" in out
    )
    assert "incidents/night.csv: row 4, mobilised_time: not a timestamp (value 'soon')" in out

    broken = tmp_path / "bids.csv"
    broken.write_text("bid_id,title\nB9,x\n")
    assert bluelight(handmade_home, "validate", str(broken), "--source", "bids") == 1
    out = capsys.readouterr().out
    assert "bids.csv (bids): reject" in out
    assert "row 1, fund_round: missing required column(s) fund_round" in out
    assert _tree_digest(handmade_home) == before


def test_validate_says_when_the_bytes_are_already_loaded(handmade_home, tmp_path):
    archived = settings_for(handmade_home).archive
    with duckdb.connect(str(settings_for(handmade_home).published_db), read_only=True) as con:
        path, load_id = con.execute(
            "select archive_path, load_id from audit.loaded_files "
            "where original_name = 'bids/bids.csv' and status = 'loaded'"
        ).fetchone()
    copy = tmp_path / "bids" / "bids.csv"
    copy.parent.mkdir()
    shutil.copy(archived.parent / path, copy)
    verdict = validate.validate(copy, None, settings_for(handmade_home).published_db)
    assert (verdict.verdict, verdict.loaded_as) == (validate.LOAD, load_id)
    assert "a night would skip these bytes" in verdict.report()
