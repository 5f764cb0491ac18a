"""A file can fail itself, never the night: the formats' limits (Excel's cell, rows and columns,
an unpacked size bounded by the file's, a CSV's longest line, the memory one file may take)
refuse a file before it is read, naming the limit; any other failure of a file's load refuses
that file with its error and leaves nothing of it; and a night with a workbook whose one cell
unpacks to over a gigabyte refuses it, publishes the rest, and stays under 2 GB of memory.

Every hostile file is built here, tiny on disk (a deflated member of repeated bytes)."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import string
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from handmade import write_handmade_inbox

from flows.load import validate
from flows.load.inbox import InboxFile, read_reason
from flows.load.raw import load_file
from flows.load.stage import stage
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.sources.errors import ContractError
from flows.warehouse.schema import ensure_schema

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings()
LIMITS = SETTINGS.file_limits
STAFFING = SOURCES["staffing"]
HEADER = {n: column for n, column in enumerate(STAFFING.column_names, start=1)}  # all required
CSV_HEADER = ",".join(STAFFING.column_names)

# --- workbooks written part by part ----------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
XLSX_PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PACKAGE}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
        '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_xml(rows: dict[int, dict[int, str]], dimension: str | None = None) -> str:
    """A worksheet of inline strings: {row number: {column number: text}}."""
    body = "".join(
        f'<row r="{r}">'
        + "".join(
            f'<c r="{_column(c)}{r}" t="inlineStr"><is><t>{text}</t></is></c>'
            for c, text in cells.items()
        )
        + "</row>"
        for r, cells in rows.items()
    )
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{size}'
        f"<sheetData>{body}</sheetData></worksheet>"
    )


def write_xlsx_parts(path: Path, sheet: str, shared: Iterable[bytes] = ()) -> Path:
    """A minimal workbook openpyxl reads: `sheet` as its one worksheet, and the shared strings
    streamed from `shared`'s pieces (each written as it comes: never whole in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        with archive.open("xl/sharedStrings.xml", "w") as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
            for piece in shared:
                member.write(piece)
            member.write(b"</sst>")
    return path


def one_cell_workbook(path: Path, characters: int) -> Path:
    """A staffing workbook whose first row's first cell is a shared string of `characters`
    repeated letters: about a thousandth of that on disk."""
    sheet = sheet_xml({1: HEADER}).replace(
        "</sheetData>", '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData>'
    )
    block = b"A" * (1 << 20)
    whole, rest = divmod(characters, len(block))
    pieces = [b"<si><t>", *([block] * whole), b"A" * rest, b"</t></si>"]
    return write_xlsx_parts(path, sheet, pieces)


def refusal(path: Path, limits=LIMITS, source=STAFFING) -> ContractError:
    """The ContractError staging the file raises (the test fails if it loads)."""
    with duckdb.connect() as con, pytest.raises(ContractError) as caught:
        stage(con, path, source, f"{source.name}/{path.name}", limits)
    return caught.value


def staged_rows(path: Path, source=STAFFING, limits=LIMITS) -> int:
    with duckdb.connect() as con:
        return stage(con, path, source, f"{source.name}/{path.name}", limits)


# --- XLSX: the unpacked size, Excel's cell, rows and columns, the memory to read it ------------


def test_an_xlsx_unpacking_to_over_its_ratio_is_refused_naming_the_member_and_the_limit(tmp_path):
    path = one_cell_workbook(tmp_path / "bomb.xlsx", 20_000_000)
    size = path.stat().st_size
    member = zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml").file_size
    assert size < 100_000 and member > 20_000_000  # a thousand times smaller on disk
    assert refusal(path).reason == (
        f"xl/sharedStrings.xml unpacks to {member:,} bytes (the whole file to "
        f"{_unpacked(path):,}), over the limit of {100 * size:,} bytes (100 x the file's "
        f"{size:,} bytes; BLUELIGHT_UNPACKED_RATIO)"
    )


def _unpacked(path: Path) -> int:
    return sum(i.file_size for i in zipfile.ZipFile(path).infolist())


def test_a_cell_of_excels_most_characters_loads_and_one_more_is_refused(tmp_path):
    text = "".join(random.Random(7).choices(string.ascii_letters, k=32_768))
    for characters in (32_767, 32_768):
        sheet = sheet_xml({1: HEADER, 2: {1: "2016-04-01", 2: text[:characters]}})
        path = write_xlsx_parts(tmp_path / f"cell_{characters}.xlsx", sheet)
        if characters == 32_767:
            with duckdb.connect() as con:  # within the limit: read by openpyxl as it is
                stage(con, path, STAFFING, "staffing/x.xlsx", LIMITS)
                cell = con.execute("select organisation from incoming").fetchone()[0]
            assert cell == text[:32_767]
        else:
            assert refusal(path).reason == (
                "a cell of xl/worksheets/sheet1.xml holds at least 32,768 characters, more than "
                "Excel's limit of 32,767 for a cell"
            )


def test_a_shared_string_over_excels_cell_limit_is_refused_however_it_is_split(tmp_path):
    runs = b"".join(b"<r><t>" + b"x" * 10_000 + b"</t></r>" for _ in range(4))  # 40,000 in all
    sheet = sheet_xml({1: HEADER}).replace(
        "</sheetData>", '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData>'
    )
    path = write_xlsx_parts(tmp_path / "runs.xlsx", sheet, [b"<si>", runs, b"</si>"])
    assert refusal(path).reason.startswith("a string of xl/sharedStrings.xml holds at least")


def test_rows_and_columns_past_excels_limits_are_refused_naming_them(tmp_path):
    past_rows = write_xlsx_parts(
        tmp_path / "rows.xlsx", sheet_xml({1: HEADER, 1_048_577: {1: "2016-04-01"}})
    )
    error = refusal(past_rows)
    assert error.reason == (
        "xl/worksheets/sheet1.xml reaches row 1,048,577, past Excel's limit of 1,048,576 rows"
    )
    assert error.row == 1_048_577
    past_columns = write_xlsx_parts(
        tmp_path / "columns.xlsx", sheet_xml({1: HEADER | {16_385: "extra"}})
    )
    assert refusal(past_columns).reason == (
        "xl/worksheets/sheet1.xml reaches column 16,385, past Excel's limit of 16,384 columns"
    )


def test_a_sheet_within_excels_limits_but_too_big_to_read_is_refused_by_the_memory_limit(
    tmp_path,
):
    # Two cells, in the first and the last of Excel's corners: openpyxl would make every row
    # 16,384 cells wide, 1,048,576 x 16,384 = 17,179,869,184 cells, about 1.7 TB at 100 bytes.
    sheet = sheet_xml({1: HEADER, 1_048_576: {16_384: "2016-04-01"}})
    path = write_xlsx_parts(tmp_path / "corners.xlsx", sheet)
    assert refusal(path).reason == (
        "its sheets span 17,179,869,184 cells (each row padded to the widest), about "
        "1,717,986,918,400 bytes to read at 100 a cell, over the file memory limit of 2GB "
        "(BLUELIGHT_FILE_MEMORY_LIMIT)"
    )


def test_a_declared_width_counts_as_openpyxl_pads_every_row_to_it(tmp_path):
    # 1,300 rows of a sheet declaring 16,384 columns: openpyxl would make each row that wide,
    # 1,300 x 16,384 = 21,299,200 cells, 2,129,920,000 bytes at 100 a cell: over 2 GB.
    sheet = sheet_xml({1: HEADER, 1_300: {1: "2016-04-01"}}, dimension="A1:XFD1300")
    path = write_xlsx_parts(tmp_path / "declared.xlsx", sheet)
    assert refusal(path).reason.startswith(
        "its sheets span 21,299,200 cells (each row padded to the widest), about "
        "2,129,920,000 bytes"
    )


def test_an_xlsx_unpacking_to_more_than_the_memory_limit_allows_is_refused(tmp_path):
    path = one_cell_workbook(tmp_path / "wide.xlsx", 30_000)  # under the ratio: 30 KB of text
    total, member = _unpacked(path), zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml")
    assert 30_000 < member.file_size < 30_200 and 4 * total > 100_000
    limits = dataclasses.replace(LIMITS, memory="100KB")  # an XLSX holds ~4 bytes a byte
    assert refusal(path, limits).reason == (
        f"xl/sharedStrings.xml unpacks to {member.file_size:,} bytes (the whole file to "
        f"{total:,}); reading it as XLSX holds about 4 times that, {4 * total:,} bytes, over "
        "the file memory limit of 100KB (BLUELIGHT_FILE_MEMORY_LIMIT)"
    )
    assert staged_rows(path) == 1  # within the default limit


# --- ODS: the spaces <text:s> stands for, repeated rows -----------------------------------------

ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def write_ods(path: Path, rows: str) -> Path:
    """An ODS whose one sheet, "Data", has `rows` (table-row elements) after a header row."""
    header = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
        for c in STAFFING.column_names
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Data">'
        f"<table:table-row>{header}</table:table-row>{rows}</table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


def _ods_row(*cells: str, repeated: int = 1) -> str:
    cells_xml = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
        for c in cells
    )
    return f'<table:table-row table:number-rows-repeated="{repeated}">{cells_xml}</table:table-row>'


def test_an_ods_cell_whose_spaces_expand_past_excels_limit_is_refused(tmp_path):
    # <text:s text:c="N"/> is N spaces: odfpy would write them all out.
    cell = (
        '<table:table-row><table:table-cell office:value-type="string"><text:p>S1'
        '<text:s text:c="50000"/>x</text:p></table:table-cell></table:table-row>'
    )
    assert refusal(write_ods(tmp_path / "spaces.ods", cell)).reason == (
        "a cell of sheet 'Data' holds at least 50,002 characters, more than Excel's limit of "
        "32,767 for a cell"
    )


def test_ods_rows_repeated_past_excels_limit_are_refused_but_trailing_empty_ones_are_not(
    tmp_path,
):
    # LibreOffice fills a sheet out to its last row with one empty repeated row: that loads.
    padded = (
        _ods_row("2016-04-01", "Test police")
        + '<table:table-row table:number-rows-repeated="1048574">'
    )
    padded += "<table:table-cell/></table:table-row>"
    assert staged_rows(write_ods(tmp_path / "padded.ods", padded)) == 1
    repeated = _ods_row(
        "2016-04-01", "Test police", repeated=1_048_576
    )  # after the header: one too many
    error = refusal(write_ods(tmp_path / "repeated.ods", repeated))
    assert error.reason == (
        "sheet 'Data' reaches row 1,048,577, past Excel's limit of 1,048,576 rows"
    )


# --- CSV: the longest line, and what Python's reader would hold ---------------------------------


def test_a_csv_line_over_the_limit_is_refused_naming_its_line_and_length(tmp_path):
    limits = dataclasses.replace(LIMITS, csv_line=1_000)
    fits = "2016-04-01," + "x" * (1_000 - 11)  # 1,000 bytes: the limit itself
    path = tmp_path / "lines.csv"
    path.write_text(f"{CSV_HEADER}\n{fits}\n2016-05-01,{'y' * 2_000}\n2016-06-01,z\n")
    error = refusal(path, limits)
    assert error.reason == (
        "line 3 is 2,011 bytes long, over the limit of 1,000 bytes for a CSV line "
        "(BLUELIGHT_CSV_LINE_LIMIT)"
    )
    assert error.row == 3
    path.write_text(f"{CSV_HEADER}\n{fits}\n2016-06-01,z\n")
    assert len(fits) == 1_000 and staged_rows(path, limits=limits) == 2


def test_a_csv_only_python_can_read_is_held_to_the_memory_limit(tmp_path):
    limits = dataclasses.replace(LIMITS, memory="10KB")  # Python holds ~16 bytes a byte
    rows = "".join(f"2016-04-01,Hall £{n},police,officer,1,1,no\n" for n in range(100))
    windows = tmp_path / "windows.csv"  # Windows-1252: Python's reader
    windows.write_bytes(f"{CSV_HEADER}\n{rows}".encode("cp1252"))
    size = windows.stat().st_size
    assert refusal(windows, limits).reason == (
        "a CSV that DuckDB cannot read directly (plain UTF-8, one record per line) is read in "
        f"Python, which would hold about {16 * size:,} bytes for its {size:,} (16 x), over the "
        "file memory limit of 10KB (BLUELIGHT_FILE_MEMORY_LIMIT)"
    )
    utf8 = tmp_path / "utf8.csv"  # the same rows in UTF-8: DuckDB reads it, within any limit
    utf8.write_text(f"{CSV_HEADER}\n{rows}", encoding="utf-8")
    assert staged_rows(utf8, limits=limits) == 100


def test_the_memory_limit_is_read_as_duckdb_reads_sizes():
    from flows.sources.limits import byte_count

    assert byte_count("2GB") == 2_000_000_000
    assert byte_count("1.5 GiB") == 1_610_612_736
    assert byte_count("4096") == 4096
    with pytest.raises(ValueError, match="not a size"):
        byte_count("lots")


# --- any failure of a file's load refuses that file alone ----------------------------------------


def _home(tmp_path: Path, **changes) -> Settings:
    settings = dataclasses.replace(Settings(home=tmp_path / "home"), **changes)
    settings.ensure_dirs()
    return settings


def _load(con, settings: Settings, relative: str, text: str, n: int):
    path = settings.inbox / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    item = InboxFile(path, relative.split("/")[0])
    return load_file(con, settings, item, f"R1-{n:04d}", "R1", datetime(2026, 1, 1))


AREAS = ["P", "Police", "F", "Fire", "A", "Amb"]


def test_a_file_whose_load_runs_out_of_memory_is_refused_and_leaves_nothing(tmp_path):
    # 4 MB lets DuckDB stage these 2,000 rows and begin appending them; it runs out part-way.
    columns = SOURCES["boundaries"].column_names
    rows = [[f"D{n}", f"Dale {n}", "Shire", "rural", str(n), *AREAS] for n in range(2_000)]
    tight = _home(tmp_path, file_memory_limit="4MB")
    path = tight.inbox / "boundaries" / "big.parquet"
    path.parent.mkdir(parents=True)
    with duckdb.connect() as scratch:
        scratch.execute(f"create table t ({', '.join(f'{c} varchar' for c in columns)})")
        scratch.executemany(f"insert into t values ({', '.join('?' * len(columns))})", rows)
        scratch.execute(f"copy t to '{path}' (format parquet)")
    con = duckdb.connect(str(tight.build_db))
    ensure_schema(con)
    big = load_file(
        con, tight, InboxFile(path, "boundaries"), "R1-0001", "R1", datetime(2026, 1, 1)
    )
    assert big.status == "rejected"
    assert big.reason.startswith("the load failed (OutOfMemoryException): Out of Memory Error")
    assert big.reason.endswith("(the file memory limit: 4MB, BLUELIGHT_FILE_MEMORY_LIMIT)")
    reason = read_reason(next(tight.rejected.rglob("big.parquet.reason.txt")))
    assert reason["file"] == "boundaries/big.parquet" and reason["reason"] == big.reason
    assert not path.exists()
    left = [
        con.execute(f"select count(*) from {table}").fetchone()[0]
        for table in (
            "raw.boundaries",
            "accepted.boundaries",
            "audit.loaded_files",
            "audit.quarantine",
        )
    ]
    assert left == [0, 0, 0, 0] and list(tight.archive.iterdir()) == []
    assert con.execute("select reason from audit.rejected_files").fetchall() == [(big.reason,)]
    # DuckDB's limit is the run's again after the file, and the next file loads.
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "3.7 GiB"
    roomy = dataclasses.replace(tight, file_memory_limit="2GB")
    small = _load(
        con,
        roomy,
        "boundaries/small.csv",
        ",".join(columns) + "\nD1,Dale,Shire,rural,1,P,Police,F,Fire,A,Amb\n",
        2,
    )
    assert (small.status, small.rows) == ("loaded", 1)


def test_validate_gives_the_loads_verdict_on_a_file_over_a_limit(tmp_path):
    path = one_cell_workbook(tmp_path / "staffing" / "bomb.xlsx", 20_000_000)
    verdict = validate.validate(path, None, None, SETTINGS)
    assert verdict.verdict == validate.REJECT
    [problem] = verdict.problems
    assert problem.rule == refusal(path).reason and "BLUELIGHT_UNPACKED_RATIO" in problem.rule


# --- the night: a gigabyte cell refused, the rest published, memory under 2 GB -------------------

NIGHT = """
import json, sys
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from flows.schedule.nightly import nightly
state = nightly(home=sys.argv[1], return_state=True)
result = {"status": "failed", "error": str(state.message)} if state.is_failed() else state.result()
# The flow's process, or the largest process it waited for (Linux counts kilobytes).
peak = max(getrusage(who).ru_maxrss for who in (RUSAGE_SELF, RUSAGE_CHILDREN))
result["peak_bytes"] = peak * 1024
print("RESULT " + json.dumps(result, default=str))
"""


def test_a_night_refuses_a_gigabyte_cell_publishes_the_rest_and_stays_under_2_gb(tmp_path):
    from prefect.settings import PREFECT_API_URL

    home = tmp_path / "home"
    write_handmade_inbox(home / "inbox")
    good = sorted(p.relative_to(home / "inbox").as_posix() for p in (home / "inbox").rglob("*.*"))
    bomb = one_cell_workbook(home / "inbox" / "staffing" / "staff.xlsx", 1_100_000_000)
    assert bomb.stat().st_size < 1_200_000  # 1.1 GB in one cell, about 1 MB on disk
    env = os.environ | {  # this session's Prefect server, and this checkout's code
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-c", NIGHT, str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["status"] == "succeeded with refusals", result
    outcomes = {o["path"]: o for o in result["outcomes"]}
    refused = outcomes.pop("staffing/staff.xlsx")
    assert refused["status"] == "rejected"
    assert refused["reason"].startswith("xl/sharedStrings.xml unpacks to 1,100,000,131 bytes")
    assert "BLUELIGHT_UNPACKED_RATIO" in refused["reason"]
    kept = next((home / "rejected").rglob("staff.xlsx.reason.txt"))
    assert read_reason(kept)["reason"] == refused["reason"]
    assert sorted(outcomes) == good and all(o["status"] == "loaded" for o in outcomes.values())
    with duckdb.connect(str(Settings(home=home).published_db), read_only=True) as con:
        published = dict(
            con.execute("select original_name, rows from audit.loaded_files").fetchall()
        )
        incidents = con.execute("select count(*) from raw.incidents").fetchone()[0]
    assert published == {path: o["rows"] for path, o in outcomes.items()}
    assert all(published.values()) and incidents == published["incidents/fire.csv"] == 11
    assert result["peak_bytes"] < 2 * 1024**3, f"peak {result['peak_bytes']:,} bytes"
