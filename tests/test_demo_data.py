"""The demo generator: deterministic, realistic magnitudes, files as an agency sends them."""

from __future__ import annotations

import hashlib

import pandas as pd
from openpyxl import load_workbook

from flows.demo.data import write_demo_inbox


def _digests(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    quiet = {"progress": lambda *_: None, "scale": 0.02}
    write_demo_inbox(tmp_path / "a", seed=7, **quiet)
    write_demo_inbox(tmp_path / "b", seed=7, **quiet)
    write_demo_inbox(tmp_path / "c", seed=8, **quiet)
    first, second, other = (_digests(tmp_path / x) for x in "abc")
    assert first == second
    assert len(first) > 90  # incidents per service, county and year, staffing, estates, ...
    assert (
        first["incidents/northmoor_fire_2016-17.csv"]
        != other["incidents/northmoor_fire_2016-17.csv"]
    )


def test_files_arrive_as_csv_and_excel_in_one_folder_per_source(tmp_path):
    write_demo_inbox(tmp_path, seed=1, scale=0.02, progress=lambda *_: None)
    folders = {p.name: {f.suffix for f in p.iterdir()} for p in tmp_path.iterdir()}
    assert folders == {
        "boundaries": {".csv"},
        "incidents": {".csv"},
        "estates": {".csv"},
        "bids": {".csv"},
        "bid_costs": {".csv"},
        "staffing": {".xlsx"},
        "finance": {".csv"},
        "benefits_register": {".xlsx"},
    }
    incidents = sorted(p.name for p in (tmp_path / "incidents").iterdir())
    assert incidents[0] == "northmoor_ambulance_2012-13.csv"
    assert "southvale_police_2025-26.csv" in incidents


def test_magnitudes_are_those_of_a_real_county(tmp_path):
    write_demo_inbox(tmp_path, seed=2014, scale=0.1, progress=lambda *_: None)
    fire = pd.read_csv(
        tmp_path / "incidents" / "northmoor_fire_2014-15.csv",
        parse_dates=["call_time", "first_arrival_time"],
    )
    minutes = (fire.first_arrival_time - fire.call_time).dt.total_seconds() / 60
    assert 7 <= minutes[fire.incident_category == "primary_fire"].median() <= 12
    assert fire.call_time.min() >= pd.Timestamp("2014-04-01")
    assert fire.call_time.max() < pd.Timestamp("2015-04-01")

    sheet = load_workbook(tmp_path / "staffing" / "northmoor_constabulary.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    officers = [r for r in rows[1:] if r[header.index("role")] == "police_officer"]
    assert officers[0][header.index("month")].date().isoformat() == "2012-04-01"
    assert officers[-1][header.index("month")].date().isoformat() == "2026-03-01"
    assert all(1_000 <= r[header.index("fte")] <= 3_500 for r in officers)


def test_the_national_tiers_keep_only_their_last_years_of_incidents(tmp_path):
    """`bluelight bench --tier national-year` writes one year at a national year's volume, not
    fourteen: 58,000 incidents a year at scale 1, so scale 0.1 gives 5,800 for one year."""
    counts = write_demo_inbox(tmp_path, scale=0.1, incident_years=1, progress=lambda *_: None)
    files = sorted(p.name for p in (tmp_path / "incidents").iterdir())
    assert len(files) == 6 and all(name.endswith("_2025-26.csv") for name in files)
    assert counts["incidents"] == 2 * (6_000 + 14_000 + 9_000) // 10
    assert (tmp_path / "staffing").exists()  # the rest of the demo is whole
