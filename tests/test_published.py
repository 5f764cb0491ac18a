"""Readers of national published statistics, on the publishers' own files and on files built here.

Figures below were read by hand from the real files (opened with pandas and odfpy, or by eye in
the CSV); the files themselves stay in ../shared/data/public and are never copied here.
"""

from __future__ import annotations

import functools
import socket
import threading
import urllib.parse
from datetime import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_PUBLIC, public_file
from openpyxl import Workbook, load_workbook
from workbooks import moved_layout, usual_layout, workforce_rows, write_workbook

from flows.sources import published
from flows.sources.errors import ContractError
from flows.sources.fetch import DownloadError, download
from flows.sources.workforce import read_police_workforce

WORKFORCE = "police_workforce/police-workforce-tabs-30sep15.ods"
AMBSYS = "ambsys/AmbSYS.csv"
LAD_PFA = "ons_lookups/LAD16_CSP16_PFA16_Dec2016.csv"
LAD_FRA = "ons_lookups/lookup_ltla21_fra21.csv"
STATIONS = "fire_stations/home-office_fire-stations-dataset.csv"


def assert_text_frame(frame: pd.DataFrame, columns: list[str]) -> None:
    """The readers' convention: fixed columns, text or None values, an integer _source_row."""
    assert list(frame.columns) == [*columns, "_source_row"]
    for column in columns:
        assert frame[column].map(lambda v: v is None or isinstance(v, str)).all(), column
        assert not frame[column].map(lambda v: isinstance(v, str) and v != v.strip()).any()
    assert pd.api.types.is_integer_dtype(frame["_source_row"])
    assert frame["_source_row"].min() >= 2


def read_written(reader, path: Path, text: str) -> pd.DataFrame:
    """`text` written to `path`, then read by `reader` (one of the published readers) as the
    nightly load reads an inbox file of that name."""
    path.write_text(text)
    return reader(path, path.name)


def value(frame: pd.DataFrame, column: str, **where) -> str | None:
    rows = frame
    for key, wanted in where.items():
        rows = rows[rows[key] == wanted]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows[column].iloc[0]


# --- police workforce ----------------------------------------------------------------------------

WORKFORCE_COLUMNS = ["table_name", "worker_type", "as_at_date", "force_name", "fte"]


def test_police_workforce_real_release():
    frame = read_police_workforce(public_file(WORKFORCE), "police-workforce-tabs-30sep15.ods")
    assert_text_frame(frame, WORKFORCE_COLUMNS)
    officers = frame[frame.table_name == "Table_1"]
    assert value(officers, "fte", force_name="Cleveland", as_at_date="2015-09-30") == "1315.32"
    assert value(officers, "fte", force_name="Cleveland", as_at_date="2014-09-30") == "1342.52"
    assert value(officers, "fte", force_name="Durham", as_at_date="2014-09-30") == "1207.22"
    assert value(officers, "_source_row", force_name="Cleveland", as_at_date="2015-09-30") == 8
    # Published as "Derbyshire1" and stored as 1821.1799999999998.
    assert value(officers, "fte", force_name="Derbyshire", as_at_date="2015-09-30") == "1821.18"
    assert value(officers, "fte", force_name="Northamptonshire", as_at_date="2014-09-30") == "1247"
    # The force, not the West Midlands region above it (11669.12).
    assert value(officers, "fte", force_name="West Midlands", as_at_date="2015-09-30") == "7043.25"
    assert value(officers, "fte", force_name="Gwent", as_at_date="2015-03-31") == "1228.8"
    staff = frame[frame.table_name == "Table_2"]
    assert value(staff, "fte", force_name="London, City of", as_at_date="2015-09-30") == "397.14"
    pcsos = frame[frame.table_name == "Table_3"]
    assert value(pcsos, "fte", force_name="Dyfed-Powys", as_at_date="2015-09-30") == "136.98"
    specials = frame[frame.table_name == "Table_5"]
    assert value(specials, "fte", force_name="Metropolitan Police", as_at_date="2015-09-30") == (
        "3434"
    )

    assert sorted(frame.table_name.unique()) == [
        f"Table_{n}" for n in range(1, 6)
    ]  # 6: time series
    assert dict(frame.groupby("table_name").worker_type.first()) == {
        "Table_1": "Police officers",
        "Table_2": "Police staff",
        "Table_3": "Police community support officers",
        "Table_4": "Designated officers",
        "Table_5": "Special constables",
    }
    assert sorted(frame.as_at_date.unique()) == ["2014-09-30", "2015-03-31", "2015-09-30"]
    assert (frame.groupby(["table_name", "as_at_date"]).force_name.nunique() == 43).all()
    assert len(frame) == 5 * 3 * 43
    forces = set(frame.force_name)
    assert {"London, City of", "Metropolitan Police", "Avon & Somerset", "Wiltshire"} <= forces
    assert {"Dyfed-Powys", "Gwent", "North Wales", "South Wales"} <= forces
    assert not forces & {"London", "Eastern", "North East", "Wales", "Total 43 forces"}
    assert not forces & {"British Transport Police", "Central Service Secondments", "Total"}


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_police_workforce_other_layout_reads_the_same(tmp_path, suffix):
    rows = workforce_rows()
    index = [["Index"], ["Table 1", "Police officers by police force area"]]
    usual = write_workbook(
        tmp_path / f"usual{suffix}", {"Index": index, "Table_1": usual_layout(rows)}
    )
    moved = write_workbook(
        tmp_path / f"moved{suffix}",
        {
            "Contents": index,
            "Table_2": [["Table 2: Police officers, 2006 to 2015"]],  # a time series: skipped
            "Table_1": moved_layout(rows),
        },
    )
    first = read_police_workforce(usual, usual.name)
    second = read_police_workforce(moved, moved.name)
    for frame in (first, second):
        assert_text_frame(frame, WORKFORCE_COLUMNS)
        assert len(frame) == 43 * 3
        assert set(frame.table_name) == {"Table_1"} and set(frame.worker_type) == {
            "Police officers"
        }
    key = ["as_at_date", "force_name"]
    pd.testing.assert_frame_equal(
        first.drop(columns="_source_row").sort_values(key).reset_index(drop=True),
        second.drop(columns="_source_row").sort_values(key).reset_index(drop=True),
    )
    # Cleveland is force 1 (1010.25, 1011.25, 1012.25); West Midlands force 21, not the region.
    assert value(second, "fte", force_name="Cleveland", as_at_date="2015-03-31") == "1011.25"
    assert value(second, "fte", force_name="West Midlands", as_at_date="2015-09-30") == "1212.25"
    assert value(second, "fte", force_name="Derbyshire", as_at_date="2014-09-30") == "1130.25"
    assert "Wiltshire" in set(second.force_name)
    # _source_row points at the force's row in each sheet (the title row above counts).
    assert value(first, "_source_row", force_name="Cleveland", as_at_date="2015-03-31") == 8
    assert value(second, "_source_row", force_name="Cleveland", as_at_date="2015-03-31") == 12
    if suffix == ".xlsx":
        sheet = load_workbook(moved)["Table_1"]
        for row in second.drop_duplicates("force_name").itertuples():
            assert sheet.cell(row._6, 2).value.startswith(row.force_name)


def test_police_workforce_layouts_it_cannot_read_name_sheet_and_row(tmp_path):
    rows = workforce_rows()
    no_dates = usual_layout(rows)
    no_dates[5] = [None, "30 Sep 2014", "31 Mar 2015", "30 Sep 2015"]  # text, not dates
    path = write_workbook(tmp_path / "no_dates.xlsx", {"Table_1": no_dates})
    with pytest.raises(ContractError, match="Table_1: no header row of as-at dates") as caught:
        read_police_workforce(path, "no_dates.xlsx")
    assert caught.value.row == 1 and caught.value.file == "no_dates.xlsx"

    missing = [r for r in rows if r[0] != "Gwent"]
    path = write_workbook(tmp_path / "missing.xlsx", {"Table_1": usual_layout(missing)})
    with pytest.raises(
        ContractError, match="expected the 43 forces of England and Wales, found 42"
    ):
        read_police_workforce(path, "missing.xlsx")

    path = write_workbook(tmp_path / "other.xlsx", {"Table_1": [["Table 1: Something else"]]})
    with pytest.raises(ContractError, match="no Table_N sheet titled"):
        read_police_workforce(path, "other.xlsx")

    # A table with an as-at date and no figures under it (column D, the latest date).
    blank = usual_layout([[r[0], r[1], r[2], None] for r in rows])
    path = write_workbook(tmp_path / "blank.xlsx", {"Table_1": blank})
    with pytest.raises(
        ContractError, match="Table_1: no figures under the as-at date 2015-09-30"
    ) as caught:
        read_police_workforce(path, "blank.xlsx")
    assert (caught.value.row, caught.value.column) == (6, "D")

    # Staff figures without the officers table, the release's headline.
    staff = usual_layout(rows, "Table 2: Police staff by police force area, 2015")
    path = write_workbook(tmp_path / "staff.xlsx", {"Table_2": staff})
    with pytest.raises(ContractError, match="no 'Table N: Police officers by police force area'"):
        read_police_workforce(path, "staff.xlsx")

    (tmp_path / "tables.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ContractError, match="unsupported file type"):
        read_police_workforce(tmp_path / "tables.csv", "tables.csv")


# --- AmbSYS --------------------------------------------------------------------------------------

AMBSYS_COLUMNS = ["period", "region", "org_code", "org_name", "measure_code", "value"]


def test_ambsys_real_time_series():
    frame = published.read_ambsys(public_file(AMBSYS), "AmbSYS.csv")
    assert_text_frame(frame, AMBSYS_COLUMNS)
    assert len(frame) == 798 * 123  # 42 months x 19 organisations, 123 measures
    london = frame[(frame.org_code == "RRU") & (frame.period == "2019-01-01")]
    assert value(london, "value", measure_code="A25") == "381"  # C1 mean, seconds
    assert value(london, "value", measure_code="A24") == "4738155"  # C1 total, seconds
    assert value(london, "value", measure_code="A8") == "12441"  # C1 incidents
    assert round(4738155 / 12441) == 381  # the mean agrees with total / incidents
    assert value(london, "_source_row", measure_code="A25") == 336
    assert value(london, "region", measure_code="A25") == "Y56"
    assert value(london, "org_name", measure_code="A25") == "LONDON AMBULANCE SERVICE NHS TRUST"
    yorkshire = frame[(frame.org_code == "RX8") & (frame.period == "2021-01-01")]
    assert value(yorkshire, "value", measure_code="A25") == "480"
    assert value(yorkshire, "value", measure_code="A26") == "823"
    # "." is missing: London's first month, and A114 before it was collected.
    assert value(frame, "value", org_code="RRU", period="2017-08-01", measure_code="A25") is None
    assert value(london, "value", measure_code="A114") is None
    assert value(frame, "region", org_code="Y56", period="2019-01-01", measure_code="A25") == (
        "London"
    )
    assert frame.period.min() == "2017-08-01" and frame.period.max() == "2021-01-01"
    assert frame.value.isna().sum() == 33062  # every "." in the file


# The measure columns every AmbSYS release carries, before the ones a test adds.
REQUIRED = ",".join(published.AMBSYS_REQUIRED_MEASURES)
BLANKS = "," * len(published.AMBSYS_REQUIRED_MEASURES)


def test_ambsys_built_file_rows_and_errors(tmp_path):
    path = tmp_path / "AmbSYS.csv"
    text = (
        f"Year,Month,Region,Org Code,Org Name,{REQUIRED},A0,A114\n"
        f"2020,4,Y56,RRU,LAS{BLANKS}, 12 ,.\n"
        "\n"  # a blank line still counts as a row of the file
        f"2020,5,Y56,RRU,LAS{BLANKS},,420\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    frame = published.read_ambsys(path, "AmbSYS.csv")
    assert_text_frame(frame, AMBSYS_COLUMNS)
    assert len(frame) == 2 * (len(published.AMBSYS_REQUIRED_MEASURES) + 2)
    assert frame[frame.measure_code.isin(["A0", "A114"])].to_dict("records") == [
        {"period": "2020-04-01", "region": "Y56", "org_code": "RRU", "org_name": "LAS",
         "measure_code": "A0", "value": "12", "_source_row": 2},
        {"period": "2020-04-01", "region": "Y56", "org_code": "RRU", "org_name": "LAS",
         "measure_code": "A114", "value": None, "_source_row": 2},
        {"period": "2020-05-01", "region": "Y56", "org_code": "RRU", "org_name": "LAS",
         "measure_code": "A0", "value": None, "_source_row": 4},
        {"period": "2020-05-01", "region": "Y56", "org_code": "RRU", "org_name": "LAS",
         "measure_code": "A114", "value": "420", "_source_row": 4},
    ]  # fmt: skip
    # A month that is not one is read as published, for the contract's date rule to quarantine
    # (tests/test_published_bad_input.py follows it through a load).
    frame = read_written(
        published.read_ambsys,
        path,
        f"Year,Month,Region,Org Code,Org Name,{REQUIRED}\n"
        f"2020,13,Y56,RRU,LAS{BLANKS}\n2020,Jan,Y56,RRU,LAS{BLANKS}\n,1,Y56,RRU,LAS{BLANKS}\n",
    )
    assert list(frame.drop_duplicates("_source_row").period) == ["2020-13-01", "2020-Jan-01", None]
    path.write_text(f"Year,Month,Org Code,Org Name,{REQUIRED}\n2020,1,RRU,LAS{BLANKS}\n")
    with pytest.raises(ContractError, match="'region'"):
        published.read_ambsys(path, "AmbSYS.csv")
    # Without a headline measure: refused, naming the first missing column.
    without = REQUIRED.replace(",A25,A26", "")
    path.write_text(f"Year,Month,Region,Org Code,Org Name,{without}\n2020,1,Y56,RRU,LAS{BLANKS}\n")
    with pytest.raises(ContractError, match="measure column.s. A25, A26$") as caught:
        published.read_ambsys(path, "AmbSYS.csv")
    assert (caught.value.row, caught.value.column) == (1, "A25")


# --- ONS lookups ---------------------------------------------------------------------------------


def test_ons_lad_to_pfa_2016():
    frame = published.read_ons_lad_pfa(public_file(LAD_PFA), "LAD16_CSP16_PFA16_Dec2016.csv")
    columns = ["district_code", "district_name", "pfa_code", "pfa_name", "vintage"]
    assert_text_frame(frame, columns)
    assert len(frame) == 348 and frame.district_code.nunique() == 348
    assert frame.pfa_code.nunique() == 43 and frame.pfa_name.nunique() == 43
    assert set(frame.vintage) == {"2016"}
    assert frame.iloc[0].to_dict() == {
        "district_code": "E07000144",  # the byte order mark is not part of the first header
        "district_name": "Broadland",
        "pfa_code": "E23000024",
        "pfa_name": "Norfolk",
        "vintage": "2016",
        "_source_row": 2,
    }
    chiltern = frame[frame.district_code == "E07000005"].iloc[0]
    assert (chiltern.pfa_name, chiltern._source_row) == ("Thames Valley", 349)


def test_ons_lad_to_fra_2021():
    frame = published.read_ons_lad_fra(public_file(LAD_FRA), "lookup_ltla21_fra21.csv")
    assert_text_frame(frame, ["district_code", "district_name", "fra_code", "fra_name", "vintage"])
    assert len(frame) == 331 and frame.district_code.nunique() == 331
    assert frame.fra_code.nunique() == 47 and set(frame.vintage) == {"2021"}
    row = frame[frame.district_name == "Stratford-on-Avon"].iloc[0]
    assert (row.district_code, row.fra_code, row.fra_name, row._source_row) == (
        "E07000221",
        "E31000036",
        "Warwickshire",
        102,
    )
    # Published as "E31000048 " with a trailing space on the Hampshire and Isle of Wight rows.
    portsmouth = frame[frame.district_code == "E06000044"].iloc[0]
    assert (portsmouth.fra_code, portsmouth.fra_name) == (
        "E31000048",
        "Hampshire and Isle of Wight",
    )


def test_ons_lookups_of_other_vintages(tmp_path):
    frame = read_written(
        published.read_ons_lad_pfa,
        tmp_path / "LAD23_PFA23.csv",
        "LAD23CD,LAD23NM,PFA23CD,PFA23NM,ObjectId\n"
        "E06000001,Hartlepool,E23000013,Cleveland,1\n"
        "W06000001,Isle of Anglesey,W15000002,North Wales,2\n",
    )
    assert frame.to_dict("records")[1] == {
        "district_code": "W06000001",
        "district_name": "Isle of Anglesey",
        "pfa_code": "W15000002",
        "pfa_name": "North Wales",
        "vintage": "2023",
        "_source_row": 3,
    }
    path = tmp_path / "lad19_fra19.csv"
    path.write_bytes(
        "\ufefffra19cd,FRA19NM,lad19nm,LAD19CD\r\nE31000001,Avon,Bath,E06000022\r\n".encode()
    )
    frame = published.read_ons_lad_fra(path, path.name)
    assert frame.to_dict("records") == [
        {"district_code": "E06000022", "district_name": "Bath", "fra_code": "E31000001",
         "fra_name": "Avon", "vintage": "2019", "_source_row": 2},
    ]  # fmt: skip
    path.write_text("LAD23CD,LAD23NM\nE06000001,Hartlepool\n")
    with pytest.raises(ContractError) as caught:
        published.read_ons_lad_fra(path, path.name)
    assert caught.value.row == 1 and "fra" in caught.value.reason


# --- fire stations -------------------------------------------------------------------------------

STATION_COLUMNS = [
    "frs_name",
    "frs_code",
    "station_name",
    "address",
    "postcode",
    "easting",
    "northing",
]


def test_fire_stations_real_list():
    frame = published.read_fire_stations(
        public_file(STATIONS), "home-office_fire-stations-dataset.csv"
    )
    assert_text_frame(frame, STATION_COLUMNS)
    assert len(frame) == 1399 and frame.frs_name.nunique() == 45 and frame.frs_code.nunique() == 45
    no_place = frame[frame.easting.isna()]
    assert len(no_place) == 25 and set(no_place.frs_name) == {"West Sussex"}
    assert no_place[["address", "postcode", "northing"]].isna().all().all()
    assert frame[frame.frs_name == "West Sussex"].easting.isna().all()
    assert frame.iloc[0].to_dict() == {
        "frs_name": "Isles of Scilly",
        "frs_code": "E06000053",
        "station_name": "Bryher",
        "address": "Bryher Fire Station, Bryher, Isles Of Scilly",
        "postcode": "TR23 0PR",
        "easting": "87878",
        "northing": "14962",
        "_source_row": 2,
    }
    # Essex addresses end in a line break inside the quotes: trimmed, and _source_row counts
    # records (sheet rows), not the file's lines.
    waltham = frame[frame.station_name == "W73 Waltham Abbey"].iloc[0]
    assert waltham.address == "Fire Station, Sewardstone Road, Waltham Abbey"
    assert (waltham.postcode, waltham.easting, waltham._source_row) == ("EN9 1PA", "538463", 372)
    assert frame._source_row.iloc[-1] == 1400
    ramsbury = frame.iloc[-1]
    assert (ramsbury.station_name, ramsbury.easting, ramsbury.northing) == (
        "Ramsbury Fire Station",
        "427260",
        "171583",
    )


def test_fire_stations_bad_coordinate_is_read_as_published(tmp_path):
    """A coordinate that is not a number is left for the contract's rule to quarantine its row
    (tests/test_published_bad_input.py), not a reason to refuse the list."""
    frame = read_written(
        published.read_fire_stations,
        tmp_path / "stations.csv",
        "FRS_FULLNAME,E_CODE,STATION_NAME,STATION_ADDRESS,STATION_POSTCODE,STATION_EASTING,"
        "STATION_NORTHING\nKent,E31000022,Ashford,Ashford,TN23 1AA,600000,140000\n"
        "Kent,E31000022,Dover,Dover,CT16 1AA,east,140000\n",
    )
    assert list(zip(frame.easting, frame._source_row, strict=True)) == [("600000", 2), ("east", 3)]


# --- FIRE1001 ------------------------------------------------------------------------------------

FIRE1001_HEADER = [
    "FINANCIAL_YEAR",
    "FRS_NAME",
    "E_CODE",
    "FIRE_TYPE",
    "INCIDENTS",
    "TOTAL_RESPONSE_TIME",
    "CALL_HANDLING_TIME",
    "CREW_TURNOUT_TIME",
    "DRIVE_TIME",
]
FIRE1001_COLUMNS = list(published.FIRE1001_COLUMNS)
# Worked by hand: 00:08:04 = 8 + 4/60 = 8.0667 min; 00:01:21 = 1.35; 00:01:45 = 1.75;
# 00:04:58 = 4 + 58/60 = 4.9667 (the three parts sum to the total); 00:09:30 = 9.5; 00:01:06 = 1.1;
# 00:02:00 = 2; 00:06:24 = 6.4.
EXPECTED = [
    {"financial_year": "2015/16", "frs_name": "Cleveland", "frs_code": "E31000007",
     "fire_type": "Primary fires", "incidents": "1315", "total_response_minutes": "8.0667",
     "call_handling_minutes": "1.35", "crew_turnout_minutes": "1.75",
     "drive_minutes": "4.9667"},
    {"financial_year": "2015/16", "frs_name": "Durham", "frs_code": "E31000013",
     "fire_type": "Secondary fires", "incidents": "902", "total_response_minutes": "9.5",
     "call_handling_minutes": "1.1", "crew_turnout_minutes": "2", "drive_minutes": "6.4"},
    {"financial_year": "2015/16", "frs_name": "Durham", "frs_code": "E31000013",
     "fire_type": "Chimney fires", "incidents": "0", "total_response_minutes": None,
     "call_handling_minutes": None, "crew_turnout_minutes": None, "drive_minutes": None},
]  # fmt: skip
CLOCKS = [
    [(0, 8, 4), (0, 1, 21), (0, 1, 45), (0, 4, 58)],
    [(0, 9, 30), (0, 1, 6), (0, 2, 0), (0, 6, 24)],
]
KEYS = [
    ["2015/16", "Cleveland", "E31000007", "Primary fires", 1315],
    ["2015/16", "Durham", "E31000013", "Secondary fires", 902],
]
CHIMNEY = ["2015/16", "Durham", "E31000013", "Chimney fires", 0, "..", "..", "", ".."]


def with_rows(frame: pd.DataFrame) -> list[dict]:
    assert_text_frame(frame, FIRE1001_COLUMNS)
    return frame.drop(columns="_source_row").to_dict("records")


def test_fire1001_csv_in_minutes_and_in_clock_text(tmp_path):
    minutes = tmp_path / "fire1001_minutes.csv"
    minutes.write_text(
        ",".join(FIRE1001_HEADER) + "\n"
        "2015/16,Cleveland,E31000007,Primary fires,1315,8.066666667,1.35,1.75,4.966666667\n"
        "2015/16,Durham,E31000013,Secondary fires,902,9.50,1.1,2,6.4\n"
        + ",".join(map(str, CHIMNEY))
        + "\n"
    )
    clock = tmp_path / "fire1001_clock.csv"
    lines = [",".join(FIRE1001_HEADER)]
    for keys, times in zip(KEYS, CLOCKS, strict=True):
        lines.append(
            ",".join([*map(str, keys), *(f"{h:02d}:{m:02d}:{s:02d}" for h, m, s in times)])
        )
    lines.append(",".join(map(str, CHIMNEY)))
    clock.write_text("\n".join(lines) + "\n")
    for path in (minutes, clock):
        frame = published.read_fire1001(path, path.name)
        assert with_rows(frame) == EXPECTED
        assert list(frame._source_row) == [2, 3, 4]


def test_fire1001_xlsx_time_cells_and_fractions_of_a_day(tmp_path):
    def book(path: Path, cell) -> Path:
        workbook = Workbook()
        workbook.active.title = "Contents"
        workbook.active.append(["FIRE1001: Response times to fires"])
        data = workbook.create_sheet("Data")
        data.append(["Table FIRE1001: average response times, minutes"])
        data.append([])
        data.append(FIRE1001_HEADER)
        for keys, times in zip(KEYS, CLOCKS, strict=True):
            data.append([*keys, *(cell(*t) for t in times)])
        data.append(CHIMNEY)
        workbook.save(path)
        return path

    time_cells = book(tmp_path / "time_cells.xlsx", lambda h, m, s: time(h, m, s))
    fractions = book(tmp_path / "fractions.xlsx", lambda h, m, s: (h * 3600 + m * 60 + s) / 86400)
    assert isinstance(load_workbook(time_cells)["Data"]["F4"].value, time)
    assert isinstance(load_workbook(fractions)["Data"]["F4"].value, float)  # 0.0056018...
    for path in (time_cells, fractions):
        frame = published.read_fire1001(path, path.name)
        assert with_rows(frame) == EXPECTED
        assert list(frame._source_row) == [4, 5, 6]  # below the title, blank row and header


def test_fire1001_layouts_it_cannot_read(tmp_path):
    path = tmp_path / "fire1001.csv"
    # A time that is not one is read as published, for the contract's rule to quarantine.
    row = "\n2015/16,Kent,E31000022,Primary,9,8 mins,1,2,5\n"
    frame = read_written(published.read_fire1001, path, ",".join(FIRE1001_HEADER) + row)
    assert (frame.total_response_minutes[0], frame.drive_minutes[0]) == ("8 mins", "5")
    path.write_text("FINANCIAL_YEAR,FRS_NAME,E_CODE\n2015/16,Kent,E31000022\n")
    with pytest.raises(ContractError, match="missing required column.s. FIRE_TYPE, INCIDENTS"):
        published.read_fire1001(path, path.name)
    without = [c for c in FIRE1001_HEADER if c != "TOTAL_RESPONSE_TIME"]
    path.write_text(",".join(without) + "\n2015/16,Kent,E31000022,Primary,9,1,2,5\n")
    with pytest.raises(ContractError, match="missing required column.s. TOTAL_RESPONSE_TIME$") as c:
        published.read_fire1001(path, path.name)
    assert (c.value.row, c.value.column) == (1, "TOTAL_RESPONSE_TIME")
    path.write_text("YEAR,FRS_NAME\n2015/16,Kent\n")
    with pytest.raises(ContractError, match="no header row with FINANCIAL_YEAR and E_CODE"):
        published.read_fire1001(path, path.name)


# --- download ------------------------------------------------------------------------------------


class PublisherHandler(SimpleHTTPRequestHandler):
    """Serves the shared public files, plus two answers a hostile or careless server might give."""

    def do_GET(self):
        if urllib.parse.unquote(self.path).endswith("/etc/passwd") or self.path.startswith(
            "/report"
        ):
            body = b"served for a hostile path\n"
            self.send_response(200)
            if self.path.startswith("/report"):
                self.send_header("Content-Disposition", 'attachment; filename="../../escape.csv"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@pytest.fixture
def publisher(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    handler = functools.partial(PublisherHandler, directory=str(SHARED_PUBLIC))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_fetches_the_publishers_bytes(publisher, tmp_path):
    original = public_file(WORKFORCE)
    dest = tmp_path / "downloads"
    path = download(f"{publisher}/{WORKFORCE}", dest)
    assert path == dest / "police-workforce-tabs-30sep15.ods"
    assert path.read_bytes() == original.read_bytes()
    assert [p.name for p in dest.iterdir()] == [path.name]  # no .partial left behind
    again = download(f"{publisher}/{AMBSYS}", dest, timeout=10)
    assert again.read_bytes() == public_file(AMBSYS).read_bytes()


def test_download_http_error_raises_and_leaves_nothing(publisher, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404") as wrong_address:
        download(f"{publisher}/no/such/file.ods", tmp_path / "downloads")
    assert list((tmp_path / "downloads").iterdir()) == []
    assert not wrong_address.value.transient  # the nightly task does not retry a 404
    with socket.socket() as closed:  # a port nothing listens on: the network's fault, retried
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DownloadError) as refused:
        download(f"http://127.0.0.1:{port}/x.ods", tmp_path / "downloads")
    assert refused.value.transient
    with pytest.raises(DownloadError, match="only http and https"):
        download(f"file://{tmp_path}/x.csv", tmp_path / "downloads")


def test_download_cannot_write_outside_its_folder(publisher, tmp_path):
    dest = tmp_path / "a" / "b" / "downloads"
    path = download(f"{publisher}/../../etc/passwd", dest)
    assert path == dest / "passwd"
    path = download(f"{publisher}/report?id=1", dest)
    assert path == dest / "escape.csv"
    path = download(f"{publisher}/%2e%2e%2f%2e%2e%2fetc%2fpasswd", dest)
    assert path.parent == dest
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["a/b/downloads/escape.csv", "a/b/downloads/passwd"]
