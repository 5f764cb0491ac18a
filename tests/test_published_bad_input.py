"""Faulty copies of the real published files: a bad figure holds back its own row (quarantined
with its rule, column and value) while every other row loads; a file cut off, or without its
headline measure, is refused naming the file, row and column; and the encodings and delimiters
publishers and Excel write (UTF-8 with or without its mark, Windows-1252, UTF-16 with its mark;
comma, tab, semicolon) read the same rows as the original.

The copies are made in tmp_path from the real files (conftest's SHARED_PUBLIC), never kept in the
repository. There is no real FIRE1001 file, so its faulty copies are built from its published
layout.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import public_file, run_flow, settings_for
from workbooks import usual_layout, workforce_rows, write_workbook

from flows.sources import published
from flows.sources.errors import ContractError

AMBSYS = "ambsys/AmbSYS.csv"
LAD_PFA = "ons_lookups/LAD16_CSP16_PFA16_Dec2016.csv"
LAD_FRA = "ons_lookups/lookup_ltla21_fra21.csv"
STATIONS = "fire_stations/home-office_fire-stations-dataset.csv"
WORKFORCE = "police_workforce/police-workforce-tabs-30sep15.ods"


def records(relative: str) -> list[list[str]]:
    """The real CSV's records, header first."""
    with public_file(relative).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def csv_bytes(
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    line_end: str = "\n",
) -> bytes:
    """Records written as a spreadsheet would save them. `encoding` "utf-16" writes a byte
    order mark and little-endian text, as Excel's "Unicode text" does; "utf-16-be" gets its
    mark written here."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    mark = "\ufeff" if encoding == "utf-16-be" else ""
    return (mark + text.getvalue()).encode(encoding)


def cell(rows: list[list[str]], row: int, column: str) -> tuple[int, int]:
    """(record index, field index) of a 1-based row and a header name."""
    return row - 1, rows[0].index(column)


def reader_frame(source: str, path: Path) -> pd.DataFrame:
    return published.READERS[source](path, path.name)


# --- encodings and delimiters (readers only) ---------------------------------------------------

ENCODED = {
    "excel_unicode_text": {"delimiter": "\t", "encoding": "utf-16", "line_end": "\r\n"},
    "utf16_big_endian": {"delimiter": "\t", "encoding": "utf-16-be", "line_end": "\r\n"},
    "utf8_semicolon": {"delimiter": ";", "encoding": "utf-8"},
    "utf8_mark_tab": {"delimiter": "\t", "encoding": "utf-8-sig"},
    "windows_semicolon": {"delimiter": ";", "encoding": "cp1252", "line_end": "\r\n"},
}


@pytest.mark.parametrize("style", sorted(ENCODED))
@pytest.mark.parametrize(
    ("source", "relative"),
    [("ambsys", AMBSYS), ("fire_stations", STATIONS), ("ons_lad_fra", LAD_FRA)],
)
def test_encodings_and_delimiters_read_the_same_rows(tmp_path, source, relative, style):
    """The fire stations' Essex addresses span lines inside quotes and some hold a no-break
    space (0xA0 in Windows-1252): rows and row numbers still match the original's."""
    copy = tmp_path / f"{style}.csv"
    copy.write_bytes(csv_bytes(records(relative), **ENCODED[style]))
    if style == "windows_semicolon" and source == "fire_stations":
        assert b"\xa0" in copy.read_bytes()  # not UTF-8: read as Windows-1252
    pd.testing.assert_frame_equal(
        reader_frame(source, copy), reader_frame(source, public_file(relative))
    )


def test_utf16_without_its_mark_is_refused(tmp_path):
    copy = tmp_path / "no_mark.csv"
    copy.write_bytes(csv_bytes(records(LAD_FRA), delimiter="\t", encoding="utf-16-le"))
    with pytest.raises(ContractError, match="UTF-16 text needs its byte order mark"):
        published.read_ons_lad_fra(copy, copy.name)


# --- files cut off (readers only) ---------------------------------------------------------------


def test_a_file_cut_off_in_its_last_line_is_refused_naming_the_row(tmp_path):
    data = public_file(AMBSYS).read_bytes()
    last_line = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[:-40])  # the line end and the last line's last 39 characters
    with pytest.raises(ContractError, match="the file is cut off: its last row has") as caught:
        published.read_ambsys(cut, cut.name)
    assert caught.value.row == 799 and caught.value.file == "cut.csv"
    assert f"{last_line[:-39].count(b',') + 1} of the header's 128 fields" in caught.value.reason

    # Cut inside the last record's quoted address (the file's last record is row 1400).
    stations = public_file(STATIONS).read_bytes()
    inside = stations.rindex(b'"High Street,Ramsbury') + 12
    cut.write_bytes(stations[:inside])
    with pytest.raises(ContractError, match="ends inside a quoted field") as caught:
        published.read_fire_stations(cut, cut.name)
    assert caught.value.row == 1400

    # Excel's "Unicode text" cut part-way through a character, and on a character boundary.
    unicode_text = csv_bytes(records(AMBSYS), delimiter="\t", encoding="utf-16", line_end="\r\n")
    cut.write_bytes(unicode_text[:-81])
    with pytest.raises(ContractError, match="part-way through a character") as caught:
        published.read_ambsys(cut, cut.name)
    assert caught.value.row == 799
    cut.write_bytes(unicode_text[:-80])
    with pytest.raises(ContractError, match="the file is cut off") as caught:
        published.read_ambsys(cut, cut.name)
    assert caught.value.row == 799


def test_bytes_that_are_not_their_encoding_name_the_row(tmp_path):
    """The fire stations list in UTF-8 with its mark: row 13's postcode holds a no-break space
    (bytes C2 A0)."""
    data = codecs.BOM_UTF8 + public_file(STATIONS).read_bytes()
    space = data.index(b"BS40\xc2\xa0") + 4
    copy = tmp_path / "stations.csv"
    copy.write_bytes(data[: space + 1])  # cut between the two bytes
    with pytest.raises(ContractError, match="part-way through a character") as caught:
        published.read_fire_stations(copy, copy.name)
    assert caught.value.row == 13
    copy.write_bytes(data[:space] + b"\xa3" + data[space + 2 :])  # a Windows-1252 byte among UTF-8
    with pytest.raises(
        ContractError, match="not readable as UTF-8 text: invalid start byte"
    ) as caught:
        published.read_fire_stations(copy, copy.name)
    assert caught.value.row == 13 and f"at byte {space}" in caught.value.reason


def test_a_whole_file_without_a_final_line_end_still_reads(tmp_path):
    whole = tmp_path / "whole.csv"
    whole.write_bytes(public_file(LAD_FRA).read_bytes().rstrip(b"\n"))
    pd.testing.assert_frame_equal(
        published.read_ons_lad_fra(whole, whole.name),
        reader_frame("ons_lad_fra", public_file(LAD_FRA)),
    )


# --- a night's inbox of faulty copies, loaded once ----------------------------------------------

# AmbSYS faults: (row, column of the file, new text); rows read off the real file.
AMBSYS_FAULTS = {
    "text figure": (336, "A25", "6 mins"),  # London, January 2019: 381 seconds
    "negative figure": (797, "A8", "-12"),  # South Western, January 2021: 8611
    "month 13": (100, "Month", "13"),  # the Midlands region, January 2018
    "name for a code": (200, "Org Code", "East Midlands"),  # RX9, June 2018
    "time over 48 hours": (400, "A26", "200000"),  # Yorkshire, April 2019: 726 seconds
}
MEASURES = 123  # AmbSYS measure columns: one raw row each per line

# ONS and fire stations faults: (row, column of the file, new text).
LAD_PFA_FAULTS = {
    "district code": (10, "LAD16CD", "E0700014"),
    "police force area code": (20, "PFA16CD", "E2300024"),
    "empty district name": (30, "LAD16NM", ""),
}
STATION_FAULTS = {
    "coordinate as text": (3, "STATION_EASTING", "east"),
    "negative coordinate": (4, "STATION_NORTHING", "-14962"),
    "code not of its form": (5, "E_CODE", "31000001"),
}
FIRE1001_HEADER = (
    "FINANCIAL_YEAR,FRS_NAME,E_CODE,FIRE_TYPE,INCIDENTS,TOTAL_RESPONSE_TIME,CALL_HANDLING_TIME,"
    "CREW_TURNOUT_TIME,DRIVE_TIME"
)
FIRE1001_ROWS = [
    "2015/16,Avon,E31000001,Primary fires,1210,00:08:04,00:01:20,00:01:44,00:05:00",
    "2015/16,Avon,E31000001,Secondary fires,850,8 mins,00:01:20,00:01:44,00:05:00",
    "2015/16,Bedfordshire,E31000002,Primary fires,640,01:10:00,00:01:20,00:01:44,00:05:00",
    "2015/16,Bedfordshire,E31000002,Secondary fires,-5,00:09:10,00:01:20,00:01:44,00:06:00",
    "2015/16,Berkshire,E3100003,Primary fires,700,00:08:30,00:01:20,00:01:44,00:05:26",
    "2015/16,Berkshire,E31000003,Secondary fires,512,00:09:00,00:01:20,00:02:00,00:05:40",
]


def _changed(relative: str, faults: dict) -> list[list[str]]:
    rows = [list(r) for r in records(relative)]
    for row, column, text in faults.values():
        i, j = cell(rows, row, column)
        rows[i][j] = text
    return rows


def _without(relative: str, column: str) -> list[list[str]]:
    rows = records(relative)
    drop = rows[0].index(column)
    return [r[:drop] + r[drop + 1 :] for r in rows]


def _ods_with(source: Path, target: Path, changes: list[tuple[str, str]]) -> None:
    """A copy of an ODS with cells of its content.xml replaced (each old cell once in the file),
    the other parts as they were (the uncompressed mimetype first, as the format wants)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "content.xml":
                text = data.decode("utf-8")
                for old, new in changes:
                    assert text.count(old) == 1, old
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            copy.writestr(item, data)


def _figure_cell(value: str) -> str:
    return f'office:value-type="float" office:value="{value}" table:style-name="ce34">'


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """Every faulty copy in one inbox, one real nightly flow run over them."""
    for relative in (AMBSYS, LAD_PFA, LAD_FRA, STATIONS, WORKFORCE):
        public_file(relative)
    home = tmp_path_factory.mktemp("bad_published")
    inbox = home / "inbox"
    files: dict[str, bytes] = {
        "ambsys/faults.csv": csv_bytes(_changed(AMBSYS, AMBSYS_FAULTS)),
        "ambsys/cut.csv": public_file(AMBSYS).read_bytes()[:-40],
        "ambsys/no_c1_mean.csv": csv_bytes(_without(AMBSYS, "A25")),
        "ons_lad_pfa/faults.csv": csv_bytes(_changed(LAD_PFA, LAD_PFA_FAULTS)),
        "ons_lad_fra/unicode_text.csv": csv_bytes(
            records(LAD_FRA), delimiter="\t", encoding="utf-16", line_end="\r\n"
        ),
        "fire_stations/faults.csv": csv_bytes(_changed(STATIONS, STATION_FAULTS)),
        "fire_stations/semicolon.csv": csv_bytes(
            records(STATIONS), delimiter=";", encoding="cp1252", line_end="\r\n"
        ),
        "fire1001/faults.csv": "\n".join([FIRE1001_HEADER, *FIRE1001_ROWS, ""]).encode(),
        "fire1001/no_total.csv": (
            FIRE1001_HEADER.replace(",TOTAL_RESPONSE_TIME", "") + "\n"
            "2015/16,Avon,E31000001,Primary fires,1210,00:01:20,00:01:44,00:05:00\n"
        ).encode(),
    }
    for name, data in files.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)
    # The real release with Cleveland's March 2015 officers as text and Durham's September
    # 2014 officers negative (Table_1, rows 8 and 9).
    (inbox / "police_workforce_tables").mkdir()
    _ods_with(
        public_file(WORKFORCE),
        inbox / "police_workforce_tables" / "faults.ods",
        [
            (
                _figure_cell("1325.44") + "<text:p>1,325</text:p>",
                'office:value-type="string" table:style-name="ce34"><text:p>1,325 (r)</text:p>',
            ),
            (_figure_cell("1207.22"), _figure_cell("-1207.22")),
        ],
    )
    # A built release whose latest as-at date (column D) has no figures under it.
    blank = usual_layout([[r[0], r[1], r[2], None] for r in workforce_rows()])
    write_workbook(inbox / "police_workforce_tables" / "no_figures.xlsx", {"Table_1": blank})

    result = run_flow(home)
    # A night of published statistics alone may fail its marts gate (the agency marts are
    # empty): then the build warehouse stays, with the loads and their audit; a night that
    # publishes moves it into place as the published one.
    settings = settings_for(home)
    warehouse = settings.build_db if settings.build_db.exists() else settings.published_db
    con = duckdb.connect(str(warehouse), read_only=True)
    yield home, result, con
    con.close()


REFUSED = {
    "ambsys/cut.csv": ("the file is cut off: its last row has 110 of the header's 128", 799, None),
    "ambsys/no_c1_mean.csv": ("missing required measure column(s) A25", 1, "A25"),
    "fire1001/no_total.csv": (
        "missing required column(s) TOTAL_RESPONSE_TIME",
        1,
        "TOTAL_RESPONSE_TIME",
    ),
    "police_workforce_tables/no_figures.xlsx": (
        "sheet Table_1: no figures under the as-at date 2015-09-30",
        6,
        "D",
    ),
}


@pytest.mark.parametrize("path", sorted(REFUSED))
def test_a_file_that_cannot_be_trusted_is_refused_naming_file_row_and_column(night, path):
    home, _result, con = night
    reason, row, column = REFUSED[path]
    kept = next((home / "rejected").rglob(path.split("/")[-1] + ".reason.txt"))
    text = kept.read_text()
    assert f"file: {path}\n" in text and reason in text
    assert f"row: {row}\n" in text and f"column: {column or ''}\n" in text
    recorded = con.execute(
        "select row_number, column_name, reason from audit.rejected_files where original_name = ?",
        [path],
    ).fetchall()
    assert len(recorded) == 1 and recorded[0][:2] == (row, column) and reason in recorded[0][2]


def quarantined(con, path: str) -> set[tuple]:
    return set(
        con.execute(
            """select q.source_row, q.column_name, q.value, q.rule from audit.quarantine q
               join audit.loaded_files f using (load_id) where f.original_name = ?""",
            [path],
        ).fetchall()
    )


def accepted(con, source: str, path: str, columns: list[str]) -> pd.DataFrame:
    """The rows of one loaded file that staging takes: raw less the quarantined."""
    listed = ", ".join(f'r."{c}"' for c in columns)
    return con.execute(
        f"""select {listed}, r._source_row from raw.{source} as r
            join audit.loaded_files f on f.load_id = r._load_id and f.original_name = $path
            anti join audit.quarantine as q on q.load_id = r._load_id
                and q.source_row = r._source_row and q.source_record = r._source_record
            order by r._source_record""",
        {"path": path},
    ).df()


def counted(con, path: str) -> tuple:
    return con.execute(
        "select status, rows, rows_quarantined from audit.loaded_files where original_name = ?",
        [path],
    ).fetchone()


def expected_rows(
    source: str, relative: str, held: Callable[[pd.DataFrame], pd.Series]
) -> pd.DataFrame:
    """The reader's rows of the real file, less those `held` marks (a boolean per row)."""
    frame = reader_frame(source, public_file(relative))
    kept = frame[~held(frame)].reset_index(drop=True)
    return kept.astype({"_source_row": "int32"})


def on_rows(*rows: int) -> Callable[[pd.DataFrame], pd.Series]:
    """Marks the rows of a file on the given lines (their _source_row)."""
    return lambda frame: frame._source_row.isin(rows)


def assert_accepted(
    con, path: str, relative: str, columns: list[str], held: Callable[[pd.DataFrame], pd.Series]
) -> None:
    """Staging takes the rows of the inbox file `path` (a faulty copy of the real file
    `relative`, in its source's folder) that the reader takes from the real file, but those
    `held` marks."""
    source = path.split("/")[0]
    expected = expected_rows(source, relative, held)
    pd.testing.assert_frame_equal(accepted(con, source, path, columns), expected)


def test_ambsys_bad_figures_hold_back_their_own_rows_and_the_rest_loads(night):
    _home, _result, con = night
    line = "does not match (?:Eng|Y\\d{2}|R[A-Z0-9]{2})"
    held = quarantined(con, "ambsys/faults.csv")
    single = {
        (336, "value", "6 mins", "not a double"),
        (797, "value", "-12", "below the minimum 0"),
        (400, "value", "200000", "response time over 48 hours (absurd)"),
    }
    # A bad month or organisation code is on the line, so each of its 123 rows is held back.
    assert {h for h in held if h[0] not in (100, 200)} == single
    assert {h[1:] for h in held if h[0] == 100} == {("period", "2018-13-01", "not a date")}
    assert {h[1:] for h in held if h[0] == 200} == {("org_code", "East Midlands", line)}
    assert counted(con, "ambsys/faults.csv") == ("loaded", 798 * MEASURES, 3 + 2 * MEASURES)
    per_line = con.execute(
        """select q.source_row, count(distinct q.source_record) from audit.quarantine q
           join audit.loaded_files f using (load_id) where f.original_name = 'ambsys/faults.csv'
           group by 1 order by 1"""
    ).fetchall()
    assert per_line == [(100, MEASURES), (200, MEASURES), (336, 1), (400, 1), (797, 1)]

    columns = ["period", "region", "org_code", "org_name", "measure_code", "value"]
    bad = {(336, "A25"), (797, "A8"), (400, "A26")}

    def held(frame: pd.DataFrame) -> pd.Series:
        figure = zip(frame._source_row, frame.measure_code, strict=True)
        return frame._source_row.isin([100, 200]) | pd.Series([f in bad for f in figure])

    assert_accepted(con, "ambsys/faults.csv", AMBSYS, columns, held)


def test_ons_codes_not_of_their_form_and_empty_names_are_quarantined(night):
    _home, _result, con = night
    assert quarantined(con, "ons_lad_pfa/faults.csv") == {
        (10, "district_code", "E0700014", r"does not match (?:E06|E07|E08|E09|W06)\d{6}"),
        (20, "pfa_code", "E2300024", r"does not match (?:E23|W15)\d{6}"),
        (30, "district_name", None, "required value missing"),
    }
    assert counted(con, "ons_lad_pfa/faults.csv") == ("loaded", 348, 3)
    columns = ["district_code", "district_name", "pfa_code", "pfa_name", "vintage"]
    assert_accepted(con, "ons_lad_pfa/faults.csv", LAD_PFA, columns, on_rows(10, 20, 30))


def test_fire_stations_bad_coordinates_and_code_are_quarantined(night):
    _home, _result, con = night
    assert quarantined(con, "fire_stations/faults.csv") == {
        (3, "easting", "east", "not a double"),
        (4, "northing", "-14962", "below the minimum 0"),
        (5, "frs_code", "31000001", r"does not match (?:E31\d{6}|E06000053)"),
    }
    assert counted(con, "fire_stations/faults.csv") == ("loaded", 1399, 3)
    columns = ["frs_name", "frs_code", "station_name", "address", "postcode", "easting", "northing"]
    assert_accepted(con, "fire_stations/faults.csv", STATIONS, columns, on_rows(3, 4, 5))


def test_fire1001_bad_times_counts_and_codes_are_quarantined(night):
    _home, _result, con = night
    assert quarantined(con, "fire1001/faults.csv") == {
        (3, "total_response_minutes", "8 mins", "not a double"),
        (4, "total_response_minutes", "70", "above the maximum 60"),
        (5, "incidents", "-5", "below the minimum 0"),
        (6, "frs_code", "E3100003", r"does not match (?:E31\d{6}|E06000053)"),
    }
    assert counted(con, "fire1001/faults.csv") == ("loaded", 6, 4)
    kept = accepted(con, "fire1001", "fire1001/faults.csv", ["frs_code", "fire_type"])
    assert kept.values.tolist() == [
        ["E31000001", "Primary fires", 2],
        ["E31000003", "Secondary fires", 7],
    ]


def test_police_figures_as_text_or_negative_hold_back_their_own_date(night):
    """One line of a police table gives a row per as-at date: only the bad date's is held."""
    _home, _result, con = night
    assert quarantined(con, "police_workforce_tables/faults.ods") == {
        (8, "fte", "1,325 (r)", "not a double"),
        (9, "fte", "-1207.22", "below the minimum 0"),
    }
    assert counted(con, "police_workforce_tables/faults.ods") == ("loaded", 5 * 3 * 43, 2)
    columns = ["table_name", "worker_type", "as_at_date", "force_name", "fte"]

    def held(frame: pd.DataFrame) -> pd.Series:
        figure = zip(frame.table_name, frame.force_name, frame.as_at_date, strict=True)
        bad = {("Table_1", "Cleveland", "2015-03-31"), ("Table_1", "Durham", "2014-09-30")}
        return pd.Series([f in bad for f in figure])

    assert_accepted(con, "police_workforce_tables/faults.ods", WORKFORCE, columns, held)


@pytest.mark.parametrize(
    ("path", "source", "relative"),
    [
        ("ons_lad_fra/unicode_text.csv", "ons_lad_fra", LAD_FRA),
        ("fire_stations/semicolon.csv", "fire_stations", STATIONS),
    ],
)
def test_unicode_text_and_semicolon_copies_load_whole(night, path, source, relative):
    _home, _result, con = night
    expected = expected_rows(source, relative, lambda f: f._source_row < 0)
    assert counted(con, path) == ("loaded", len(expected), 0)
    columns = [c for c in expected.columns if c != "_source_row"]
    pd.testing.assert_frame_equal(accepted(con, source, path, columns), expected)


def test_the_night_names_every_file_and_its_checks_pass(night):
    _home, result, con = night
    statuses = dict(
        con.execute(
            "select original_name, status from audit.loaded_files union all "
            "select original_name, 'rejected' from audit.rejected_files"
        ).fetchall()
    )
    loaded = {
        "ambsys/faults.csv",
        "ons_lad_pfa/faults.csv",
        "ons_lad_fra/unicode_text.csv",
        "fire_stations/faults.csv",
        "fire_stations/semicolon.csv",
        "fire1001/faults.csv",
        "police_workforce_tables/faults.ods",
    }
    assert statuses == {**dict.fromkeys(loaded, "loaded"), **dict.fromkeys(REFUSED, "rejected")}
    # The quarantine and the contracts agree: the checks on the rows this run accepted pass.
    assert "the loaded rows" not in result.get("error", ""), result
    checked = con.execute(
        "select distinct suite from audit.quality_results where suite like 'source.%'"
    ).fetchall()
    assert len(checked) == 6
    failed = con.execute(
        "select suite, expectation, column_name from audit.quality_results where not success "
        "and level = 'critical' and suite like 'source.%'"
    ).fetchall()
    assert failed == []
