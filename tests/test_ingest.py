"""Reading and checking agency files against their contracts, on real files and DuckDB."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
import pytest
from openpyxl import Workbook

from flows.load.inbox import discover
from flows.load.quarantine import ACCEPTED
from flows.load.raw import append_raw
from flows.load.stage import _stage_csv, check_contract, stage
from flows.settings import Settings
from flows.sources.agency import read_file
from flows.sources.contracts import SOURCES, Column, Source
from flows.sources.errors import ContractError
from flows.warehouse.schema import ensure_schema

LIMITS = Settings().file_limits


def test_csv_with_byte_order_mark_and_windows_1252_pound_sign_read_the_same(tmp_path):
    text = "site_id,site_name\nS1,Old Hall (£1 lease)\n"
    (tmp_path / "utf8.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "cp1252.csv").write_bytes(text.encode("cp1252"))
    for name in ("utf8.csv", "cp1252.csv"):
        frame = read_file(tmp_path / name, name)
        assert list(frame.columns) == ["site_id", "site_name", "_source_row"]
        assert frame.site_name[0] == "Old Hall (£1 lease)"


def test_excel_cells_become_the_text_a_csv_would_carry(tmp_path):
    wb = Workbook()
    wb.active.append(["Month", "FTE", "Headcount", "Shared_Post"])
    wb.active.append([datetime(2016, 4, 1), 12.5, 13.0, True])
    wb.save(tmp_path / "staff.xlsx")
    frame = read_file(tmp_path / "staff.xlsx", "staffing/staff.xlsx")
    assert frame.iloc[0].to_dict() == {
        "month": "2016-04-01",
        "fte": "12.5",
        "headcount": "13",
        "shared_post": "true",
        "_source_row": 2,
    }


def test_missing_required_column_names_the_file_row_and_column(tmp_path):
    path = tmp_path / "bids.csv"
    path.write_text("bid_id,title\nB1,Thing\n")
    frame = read_file(path, "bids/bids.csv")
    with pytest.raises(ContractError) as caught:
        check_contract(frame, SOURCES["bids"], "bids/bids.csv")
    error = caught.value
    assert (error.file, error.row, error.column) == ("bids/bids.csv", 1, "fund_round")
    assert "missing required column(s) fund_round" in str(error)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "the file is empty"),
        (",".join(SOURCES["bids"].column_names).encode() + b"\n", "header but no rows"),
    ],
)
def test_empty_files_are_refused(tmp_path, content, reason):
    path = tmp_path / "bids.csv"
    path.write_bytes(content)
    with pytest.raises(ContractError, match=reason):
        check_contract(read_file(path, "bids.csv"), SOURCES["bids"], "bids.csv")


def test_rows_carry_their_lineage_into_raw(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    path = tmp_path / "districts.csv"
    path.write_text(
        ",".join(SOURCES["boundaries"].column_names)
        + "\n"
        + "D1,Dale,Shire,rural,100,P,Police,F,Fire,A,Amb\n"
        + "D2,Hill,Shire,urban,200,P,Police,F,Fire,A,Amb\n"
    )
    assert stage(con, path, SOURCES["boundaries"], "x", LIMITS) == 2
    append_raw(
        con,
        SOURCES["boundaries"],
        load_id="L1",
        loaded_at=datetime(2026, 1, 1),
        archive_path="archive/abc.csv",
        sha256="abc",
    )
    rows = con.execute(
        "select district_code, population, _load_id, _source_file, "
        "_source_sha256, _source_row, _source_record from raw.boundaries order by 1"
    ).fetchall()
    assert rows == [
        ("D1", "100", "L1", "archive/abc.csv", "abc", 2, 1),
        ("D2", "200", "L1", "archive/abc.csv", "abc", 3, 2),
    ]


def test_a_warehouse_from_before_row_records_gains_them_and_keeps_its_quarantine(tmp_path):
    """Raw rows and quarantine rows written before `_source_record` existed: the columns are
    added empty, and an old quarantine row still holds back its line (all it could name)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw; create schema audit")
    con.execute("""create table audit.quarantine (run_id varchar, load_id varchar,
        source varchar, source_file varchar, source_row integer, column_name varchar,
        value varchar, rule varchar, quarantined_at timestamp)""")
    columns = ", ".join(f"{c} varchar" for c in SOURCES["ambsys"].column_names)
    con.execute(f"""create table raw.ambsys ({columns}, _load_id varchar,
        _loaded_at timestamp, _source_file varchar, _source_sha256 varchar, _source_row integer)""")
    con.execute("""insert into raw.ambsys (period, org_code, measure_code, value, _load_id,
        _source_row) values ('2020-04-01', 'RRU', 'A0', '12', 'L1', 2),
        ('2020-04-01', 'RRU', 'A25', 'abc', 'L1', 2), ('2020-05-01', 'RRU', 'A0', '13', 'L1', 3)""")
    con.execute("""insert into audit.quarantine (load_id, source, source_row, column_name, rule)
        values ('L1', 'ambsys', 2, 'value', 'not a double')""")

    ensure_schema(con)

    assert con.execute("select count(_source_record) from raw.ambsys").fetchone()[0] == 0
    assert con.execute("select count(source_record) from audit.quarantine").fetchone()[0] == 0
    accepted = con.execute(
        f"select period, measure_code from raw.ambsys as r {ACCEPTED.format(alias='r')}"
    ).fetchall()
    assert accepted == [("2020-05-01", "A0")]


def test_discover_ignores_hidden_files_and_keeps_the_folder(tmp_path):
    (tmp_path / "bids").mkdir()
    (tmp_path / "bids" / "a.csv").write_text("x")
    (tmp_path / "bids" / ".~lock.a.csv#").write_text("x")
    (tmp_path / "loose.csv").write_text("x")
    found = discover(tmp_path)
    assert [(f.folder, f.path.name) for f in found] == [("bids", "a.csv"), ("", "loose.csv")]


def _staged(con, source) -> list[tuple]:
    columns = ", ".join([*source.column_names, "_source_row"])
    return con.execute(f"select {columns} from incoming order by _source_row").fetchall()


@pytest.mark.parametrize(
    "content, fast",
    [
        # spaces around values, a row of empty cells, an unnamed and an unknown column, CRLF
        (
            b"Site_ID, Site_Name ,,Extra\r\n S1 , Old Hall ,x,y\r\n,,,\r\nS2,,,\r\n",
            True,
        ),
        ("\ufeffsite_id,site_name\nS1,\u00a3 lease \u00a0\n".encode(), True),  # BOM, NBSP
        (b'site_id,site_name\nS1,"two\nlines"\n\nS2,x\n', False),  # a record spans lines
        (b"site_id,site_name\nS1\nS2,x,\n", False),  # short and long rows: Python pads them
        ("site_id,site_name\nS1,\u00a3\n".encode("cp1252"), False),
        (b"site_id;site_name\nS1;Old Hall, east wing\nS2;\n", True),  # another locale's Excel
        (b"site_id\tsite_name\r\nS1\tOld Hall\r\n", True),  # tab-separated
        # Excel's "Unicode text": UTF-16 with its mark, tab-separated
        ("site_id\tsite_name\r\nS1\t\u00a3 lease\r\n".encode("utf-16"), False),
    ],
)
def test_duckdb_reads_a_csv_exactly_as_python_does(tmp_path, content, fast):
    """DuckDB's reader (the fast path) gives the rows, numbers and text Python's gives, and
    leaves to Python any file where it could not."""
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    source = Source(
        "sites",
        "Hand-made: one required column, an optional one sent, an optional one not sent.",
        (
            Column("site_id", "varchar", "Site."),
            Column("site_name", "varchar", "Name.", required=False),
            Column("opened", "date", "Opened.", required=False),
        ),
        key=("site_id",),
    )
    con = duckdb.connect()
    assert (_stage_csv(con, path, source, "e.csv") is not None) is fast
    frame = check_contract(read_file(path, "e.csv"), source, "e.csv")
    expected = [tuple(None if pd.isna(v) else v for v in row) for row in frame.values.tolist()]
    stage(con, path, source, "e.csv", LIMITS)
    assert _staged(con, source) == expected


def test_an_agency_csv_in_utf16_or_with_semicolons_loads_the_rows_of_the_plain_one(tmp_path):
    """Excel's "Unicode text" (UTF-16, tabs) and another locale's CSV (semicolons, Windows-1252
    or UTF-8) are read as published statistics are: the same rows as the plain UTF-8 file."""
    source = SOURCES["bids"]
    rows = [
        ["B1", "Shared estate; one site", "PIF 2016/17", "Test PCC", "Test police", "Testshire"],
        ["B2", "Joint control room, £2m", "PIF 2016/17", "Test PCC", "Test fire", "Testshire"],
    ]
    rows = [[*row, "50000", "0", "01/04/2016"] for row in rows]
    header = source.required_columns

    def text(delimiter: str, end: str = "\n") -> str:
        quoted = [
            delimiter.join(f'"{v}"' if delimiter in v else v for v in row) + end
            for row in [header, *rows]
        ]
        return "".join(quoted)

    files = {
        "plain.csv": text(",").encode("utf-8"),
        "unicode_text.csv": text("\t", "\r\n").encode("utf-16"),
        "semicolon.csv": text(";").encode("utf-8"),
        "windows_semicolon.csv": text(";", "\r\n").encode("cp1252"),
    }
    staged = {}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        with duckdb.connect() as con:
            assert stage(con, tmp_path / name, source, name, LIMITS) == 2
            staged[name] = _staged(con, source)
    assert staged["plain.csv"][1][:3] == ("B2", "Joint control room, £2m", "PIF 2016/17")
    assert all(rows == staged["plain.csv"] for rows in staged.values()), staged
