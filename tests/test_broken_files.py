"""A corpus of broken files, built here: each ends refused or quarantined with its reason, and
every good row of every good file still loads. Good files come in every accepted format."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BACKENDS, open_published, published_night, settings_for
from handmade import district, fire_incident, write_handmade_inbox, write_rows
from workbooks import usual_layout, workforce_rows, write_workbook

from flows.load import validate
from flows.sources.contracts import SOURCES
from flows.sources.published import AMBSYS_REQUIRED_MEASURES
from flows.warehouse import backend

BIDS_HEADER = ",".join(SOURCES["bids"].required_columns)  # the optional columns left out
GOOD_BID = "B1,Bid B1,PIF 2016/17,Test PCC,Test police,Testshire,50000,0,01/04/2016"

# File-level faults: (inbox path, bytes, what the reason must say, row, column).
REFUSED = {
    "bids/missing_column.csv": (
        b"bid_id,title\nB8,x\n",
        "missing required column(s) fund_round",
        1,
        "fund_round",
    ),
    "bids/empty.csv": (b"", "the file is empty", 1, None),
    "bids/header_only.csv": (BIDS_HEADER.encode() + b"\n", "header but no rows", 2, None),
    "staffing/broken.xlsx": (
        b"PK\x03\x04 not really a workbook",
        "not readable as XLSX",
        None,
        None,
    ),
    "bids/notes.txt": (b"call Sam about B3", "unsupported file type '.txt'", None, None),
    "parking/x.csv": (b"a,b\n1,2\n", "no source owns the folder 'parking'", None, None),
    "loose.csv": (b"a,b\n1,2\n", "no source owns the top of the inbox", None, None),
    "bids/incidents_sent_here.csv": (
        b"incident_id,service,incident_category,district_code\nF1,fire,rtc,D1\n",
        "missing required column(s) bid_id",
        1,
        "bid_id",
    ),
    "bids/ragged.csv": (
        (BIDS_HEADER + "\n" + GOOD_BID + "\n" + GOOD_BID + ",extra\n").encode(),
        "10 values in a row of a 9-column file",
        3,
        None,
    ),
    "bids/binary.csv": (b"\x00\x01\x02\xff\xfe" * 50, "not readable as CSV", None, None),
    "estates/corrupt.parquet": (b"PAR1 truncated", "not readable as Parquet", None, None),
    "staffing/corrupt.ods": (b"PK\x03\x04 not an ods", "not readable as ODS", None, None),
    "bids/duplicate_header.csv": (
        b"bid_id,title,title\nB9,a,b\n",
        "column 'title' appears twice",
        1,
        "title",
    ),
}

STAMP = "%Y-%m-%d %H:%M:%S"
AMBSYS_OTHERS = [m for m in AMBSYS_REQUIRED_MEASURES if m != "A25"]


def _incident(n, **changes):
    row = fire_incident(n, "D1", datetime(2016, 7, 1, 9) + pd.Timedelta(days=n % 20), 60, 420)
    return {**row, **changes}


def _fault(n: int, column: str, value: str | None, rule: str) -> tuple[dict, str, str]:
    """Incident `n` with `column` set to `value`, the rule that must hold it back, the column."""
    return _incident(n, **{column: value}), rule, column


# Row-level faults in one incidents file: (incident, rule, column).
QUARANTINED = [
    _fault(201, "first_arrival_time", "2016-06-01 08:00:00", "first arrival before the call"),
    _fault(202, "first_arrival_time", "2016-07-20 09:00:00", "response over 24 hours (absurd)"),
    _fault(203, "service", "coastguard", "not an allowed value"),
    _fault(204, "incident_category", "alien_landing", "not an allowed value"),
    _fault(205, "call_time", "yesterday", "not a timestamp"),
    _fault(206, "district_code", None, "required value missing"),
    _fault(207, "district_code", "ZZ9", "unknown district_code: not in boundaries"),
    _fault(208, "mobilised_time", "2016-06-01 00:00:00", "mobilised before the call"),
]
DUPLICATE = _incident(209)


def _staff(month, role, fte, headcount=10):
    return {
        "month": month,
        "organisation": "Test police",
        "service": "police",
        "role": role,
        "fte": fte,
        "headcount": headcount,
        "shared_post": "no",
    }


def write_corpus(inbox: Path) -> None:
    """The handmade inbox, then every broken and every good file of the corpus."""
    write_handmade_inbox(inbox)
    for path, (content, *_rest) in REFUSED.items():
        (inbox / path).parent.mkdir(parents=True, exist_ok=True)
        (inbox / path).write_bytes(content)

    good_incidents = [_incident(n) for n in range(300, 310)]
    write_rows(
        inbox / "incidents" / "mixed.csv",
        "incidents",
        [
            *good_incidents[:5],
            *(row for row, _, _ in QUARANTINED),
            DUPLICATE,
            DUPLICATE,
            *good_incidents[5:],
        ],
    )
    # Good files in every other accepted format and style:
    # Windows-1252 CSV with a pound sign, UK day-first dates and an Excel serial date.
    header = ",".join(SOURCES["bids"].required_columns)
    (inbox / "bids" / "windows.csv").write_bytes(
        (
            header
            + "\n"
            + GOOD_BID.replace("Bid B1", "Bid B1 (£50k)")
            + "\n"
            + "B2,Bid B2,PIF 2016/17,Test PCC,Test police,Testshire,60000,0,42461\n"
        ).encode("cp1252")
    )
    # ODS staffing with a negative FTE and a word for a number among good rows.
    pd.DataFrame(
        [
            _staff(datetime(2016, 4, 1), "officer", 100.5),
            _staff(datetime(2016, 5, 1), "officer", -3),
            _staff(datetime(2016, 6, 1), "officer", "lots"),
            _staff(datetime(2016, 7, 1), "officer", 101.0),
        ]
    ).to_excel(inbox / "staffing" / "staff.ods", engine="odf", index=False)
    # Parquet estates return (typed columns), one row with a malformed financial year.
    estates = pd.DataFrame(
        [
            {
                "site_id": "P1",
                "financial_year": "2016-17",
                "site_name": "Parquet House",
                "organisation": "Test police",
                "service": "police",
                "district_code": "D2",
                "tenure": "leasehold",
                "floor_area_m2": 800.0,
                "running_cost_gbp": 90_000.0,
                "co_located_services": None,
                "co_located_since": None,
                "disposal_date": None,
                "capital_receipt_gbp": None,
                "easting": 401000,
                "northing": 501000,
            },
        ]
    )
    estates = pd.concat([estates, estates.assign(site_id="P2", financial_year="2016/17")])
    with duckdb.connect() as con:
        con.register("estates", estates)
        con.execute(f"copy estates to '{inbox / 'estates' / 'return.parquet'}' (format parquet)")
    write_rows(
        inbox / "boundaries" / "extra.xlsx",
        "boundaries",
        [district("D4", "Moor", "Testshire", "rural", 500)],
    )

    # Published tables, where one line gives several rows: a police workforce release whose
    # second sheet has a word for Cleveland's March 2015 figure, on the same row (8) as the
    # first sheet's Cleveland, and an AmbSYS line with one measure that is not a number.
    staff = workforce_rows()
    staff[1] = [staff[1][0], staff[1][1], "lots", staff[1][3]]  # Cleveland, after its region
    (inbox / "police_workforce_tables").mkdir()
    write_workbook(
        inbox / "police_workforce_tables" / "release.xlsx",
        {
            "Table_1": usual_layout(workforce_rows()),
            "Table_2": usual_layout(staff, "Table 2: Police staff by police force area, 2015"),
        },
    )
    # A release carries its headline measures: the others are there, and blank.
    (inbox / "ambsys").mkdir()
    blanks = "," * len(AMBSYS_OTHERS)
    (inbox / "ambsys" / "AmbSYS.csv").write_text(
        f"Year,Month,Region,Org Code,Org Name,A0,A25,{','.join(AMBSYS_OTHERS)}\n"
        f"2020,4,Y56,RRU,LAS,12,6 mins{blanks}\n"
        f"2020,5,Y56,RRU,LAS,13,420{blanks}\n"
    )


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(tmp_path_factory, request):
    """The corpus loaded by one night, on each backend in turn: the home, the flow's result,
    and the published warehouse open."""
    home, result = published_night(
        tmp_path_factory, "broken", write_corpus, backend=request.param, request=request
    )
    with open_published(home) as con:
        yield home, result, con


@pytest.mark.parametrize("path", sorted(REFUSED))
def test_each_broken_file_is_refused_with_its_reason_and_kept(loaded, path):
    home, result, con = loaded
    _content, reason, row, column = REFUSED[path]
    outcome = next(o for o in result["outcomes"] if o["path"] == path)
    assert outcome["status"] == "rejected"
    assert reason in outcome["reason"]
    kept = next((home / "rejected").rglob(path.split("/")[-1] + ".reason.txt"))
    text = kept.read_text()
    assert f"file: {path}\n" in text and reason in text
    assert f"row: {row or ''}\n" in text and f"column: {column or ''}\n" in text
    assert kept.with_name(kept.name.removesuffix(".reason.txt")).read_bytes() == REFUSED[path][0]
    assert (
        con.execute(
            "select count(*) from audit.rejected_files where original_name = ?", [path]
        ).fetchone()[0]
        == 1
    )


@pytest.mark.parametrize("case", range(len(QUARANTINED)))
def test_each_broken_row_is_quarantined_with_its_rule(loaded, case):
    _home, _result, con = loaded
    row, rule, column = QUARANTINED[case]
    held = con.execute(
        """
        select q.source_row, q.column_name, q.rule from audit.quarantine q
        join audit.loaded_files f using (load_id)
        where f.original_name = 'incidents/mixed.csv' and q.rule = ? and q.column_name = ?
    """,
        [rule, column],
    ).fetchall()
    assert [(r[0]) for r in held] == [7 + case]  # header, five good rows, then the faults


def test_duplicate_key_in_a_file_keeps_the_first(loaded):
    _home, _result, con = loaded
    held = con.execute("""
        select source_row, rule from audit.quarantine where rule like 'duplicate key%'
    """).fetchall()
    assert held == [(7 + len(QUARANTINED) + 1, "duplicate key (service, incident_id) in the file")]
    assert (
        con.execute(
            "select count(*) from staging.stg_agency__incidents where incident_id = 'F209'"
        ).fetchone()[0]
        == 1
    )


def test_every_good_row_of_every_good_file_still_loads(loaded):
    home, result, con = loaded
    staged = {
        r[0]
        for r in con.execute("select incident_id from staging.stg_agency__incidents").fetchall()
    }
    assert {f"F{n}" for n in range(300, 310)} <= staged
    assert not {f"F{n}" for n in range(201, 209)} & staged
    bids = dict(
        con.execute("select bid_id, go_live_date::varchar from staging.stg_agency__bids").fetchall()
    )
    # Re-sent (a corrected version wins): a UK date and an Excel serial, both 1 April 2016.
    assert bids == {"B1": "2016-04-01", "B2": "2016-04-01"}
    title = con.execute("select title from staging.stg_agency__bids where bid_id = 'B1'").fetchone()
    assert title == ("Bid B1 (£50k)",)
    staff = con.execute(
        "select month::varchar, fte from staging.stg_agency__staffing order by month"
    ).fetchall()
    assert staff == [("2016-04-01", 100.5), ("2016-07-01", 101.0)]
    rules = {
        r[0]
        for r in con.execute(
            "select rule from audit.quarantine q join audit.loaded_files f using (load_id) "
            "where f.source in ('staffing', 'estates')"
        ).fetchall()
    }
    assert rules == {"below the minimum 0", "not a double", r"does not match \d{4}-\d{2}"}
    assert con.execute(
        "select site_id from staging.stg_agency__estates where site_id like 'P%'"
    ).fetchall() == [("P1",)]
    assert (
        con.execute(
            "select district_name from marts.dim_areas where district_code = 'D4'"
        ).fetchone()[0]
        == "Moor"
    )
    # the incidents' faults and duplicate, two staffing rows, an estate, two published figures
    quarantined = len(QUARANTINED) + 1 + 2 + 1 + 2
    assert result["record"]["rows_quarantined"] == quarantined
    assert result["record"]["files_rejected"] == len(REFUSED)


def test_a_bad_figure_holds_back_its_own_row_not_the_others_on_its_line(loaded):
    """A published line gives a row per sheet, date or measure: only the one with the bad
    figure is quarantined, and every other figure of that line reaches the marts."""
    _home, _result, con = loaded
    held = con.execute("""
        select f.source, q.source_row, q.column_name, q.value, q.rule from audit.quarantine q
        join audit.loaded_files f using (load_id)
        where f.source in ('police_workforce_tables', 'ambsys') order by f.source""").fetchall()
    assert held == [
        ("ambsys", 2, "value", "6 mins", "not a double"),
        ("police_workforce_tables", 8, "fte", "lots", "not a double"),
    ]
    # The record names the very row, as the auditors' guide joins it.
    row = con.execute("""
        select r.table_name, r.as_at_date, r.force_name, r.fte from audit.quarantine q
        join raw.police_workforce_tables r
            on r._load_id = q.load_id and r._source_record = q.source_record""").fetchall()
    assert row == [("Table_2", "2015-03-31", "Cleveland", "lots")]
    counted = con.execute("""
        select source, rows, rows_quarantined from audit.loaded_files
        where source in ('police_workforce_tables', 'ambsys') order by source""").fetchall()
    ambsys_rows = 2 * (2 + len(AMBSYS_OTHERS))
    assert counted == [("ambsys", ambsys_rows, 1), ("police_workforce_tables", 2 * 43 * 3, 1)]
    cleveland = con.execute("""
        select worker_type, as_at_date::varchar, fte from marts.fct_police_workforce
        where force_name = 'Cleveland' order by all""").fetchall()
    assert cleveland == [  # Cleveland is force 1: 1010.25, 1011.25, 1012.25 on both sheets
        ("Police officers", "2014-09-30", 1010.25),
        ("Police officers", "2015-03-31", 1011.25),
        ("Police officers", "2015-09-30", 1012.25),
        ("Police staff", "2014-09-30", 1010.25),
        ("Police staff", "2015-09-30", 1012.25),
    ]
    ambsys = con.execute("""
        select period::varchar, measure_code, value from staging.stg_published__ambsys
        where value is not null order by all""").fetchall()
    assert ambsys == [
        ("2020-04-01", "A0", 12.0),
        ("2020-05-01", "A0", 13.0),
        ("2020-05-01", "A25", 420.0),
    ]


def test_validate_gives_the_loads_verdict_on_every_file_of_the_corpus(loaded, tmp_path):
    """`bluelight validate` on a fresh copy of each file, against the warehouse the night
    published: refused files are rejected for the same reason, and loaded files set aside the
    same rows."""
    home, result, _con = loaded
    write_corpus(tmp_path)
    settings = settings_for(home)
    if backend.on_lake(settings):
        published, options = backend.newest(settings), {"settings": settings}
    else:
        published, options = settings.published_db, {}
    judged = 0
    for outcome in result["outcomes"]:
        verdict = validate.validate(tmp_path / outcome["path"], None, published, **options)
        if outcome["status"] == "rejected":
            assert verdict.verdict == validate.REJECT, outcome["path"]
            if outcome["source"] in SOURCES:  # else: no folder names a source, in either
                rule = verdict.problems[0].rule.replace(str(tmp_path), str(home / "inbox"))
                assert outcome["reason"].endswith(rule), outcome["path"]
        else:
            expected = validate.QUARANTINE if outcome["quarantined"] else validate.LOAD
            assert verdict.verdict == expected, outcome["path"]
            assert verdict.quarantined_rows == outcome["quarantined"], outcome["path"]
        judged += 1
    assert judged == len(result["outcomes"]) > len(REFUSED)
