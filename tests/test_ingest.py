"""Reading and checking agency files against their contracts, on real files and DuckDB."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from openpyxl import Workbook

from flows import ingest
from flows.contracts import SOURCES


def test_csv_with_byte_order_mark_and_windows_1252_pound_sign_read_the_same(tmp_path):
    text = "site_id,site_name\nS1,Old Hall (£1 lease)\n"
    (tmp_path / "utf8.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "cp1252.csv").write_bytes(text.encode("cp1252"))
    for name in ("utf8.csv", "cp1252.csv"):
        frame = ingest.read_file(tmp_path / name, name)
        assert list(frame.columns) == ["site_id", "site_name", "_source_row"]
        assert frame.site_name[0] == "Old Hall (£1 lease)"


def test_excel_cells_become_the_text_a_csv_would_carry(tmp_path):
    wb = Workbook()
    wb.active.append(["Month", "FTE", "Headcount", "Shared_Post"])
    wb.active.append([datetime(2016, 4, 1), 12.5, 13.0, True])
    wb.save(tmp_path / "staff.xlsx")
    frame = ingest.read_file(tmp_path / "staff.xlsx", "staffing/staff.xlsx")
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
    frame = ingest.read_file(path, "bids/bids.csv")
    with pytest.raises(ingest.ContractError) as caught:
        ingest.check_contract(frame, SOURCES["bids"], "bids/bids.csv")
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
    with pytest.raises(ingest.ContractError, match=reason):
        ingest.check_contract(ingest.read_file(path, "bids.csv"), SOURCES["bids"], "bids.csv")


def test_rows_carry_their_lineage_into_raw(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest.ensure_schema(con)
    path = tmp_path / "districts.csv"
    path.write_text(
        ",".join(SOURCES["boundaries"].column_names)
        + "\n"
        + "D1,Dale,Shire,rural,100,P,Police,F,Fire,A,Amb\n"
        + "D2,Hill,Shire,urban,200,P,Police,F,Fire,A,Amb\n"
    )
    frame = ingest.check_contract(ingest.read_file(path, "x"), SOURCES["boundaries"], "x")
    ingest.append_raw(
        con,
        SOURCES["boundaries"],
        frame,
        load_id="L1",
        loaded_at=datetime(2026, 1, 1),
        archive_path="archive/abc.csv",
        sha256="abc",
    )
    rows = con.execute(
        "select district_code, population, _load_id, _source_file, "
        "_source_sha256, _source_row from raw.boundaries order by 1"
    ).fetchall()
    assert rows == [
        ("D1", "100", "L1", "archive/abc.csv", "abc", 2),
        ("D2", "200", "L1", "archive/abc.csv", "abc", 3),
    ]


def test_discover_ignores_hidden_files_and_keeps_the_folder(tmp_path):
    (tmp_path / "bids").mkdir()
    (tmp_path / "bids" / "a.csv").write_text("x")
    (tmp_path / "bids" / ".~lock.a.csv#").write_text("x")
    (tmp_path / "loose.csv").write_text("x")
    found = ingest.discover(tmp_path)
    assert [(f.folder, f.path.name) for f in found] == [("bids", "a.csv"), ("", "loose.csv")]
