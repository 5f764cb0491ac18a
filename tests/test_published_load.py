"""The real published files load through the inbox (and one through its web address), and their
figures read back from the warehouse as the publishers printed them."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from conftest import SHARED_PUBLIC, open_published, published_night
from handmade import write_handmade_inbox

pytestmark = pytest.mark.skipif(
    not SHARED_PUBLIC.exists(), reason=f"the shared public data is not at {SHARED_PUBLIC}"
)

IN_INBOX = {
    "police_workforce_tables": "police_workforce/police-workforce-tabs-30sep15.ods",
    "ambsys": "ambsys/AmbSYS.csv",
    "ons_lad_pfa": "ons_lookups/LAD16_CSP16_PFA16_Dec2016.csv",
    "ons_lad_fra": "ons_lookups/lookup_ltla21_fra21.csv",
}
FIRE1001 = (
    "FINANCIAL_YEAR,FRS_NAME,E_CODE,FIRE_TYPE,INCIDENTS,TOTAL_RESPONSE_TIME,CALL_HANDLING_TIME,"
    "CREW_TURNOUT_TIME,DRIVE_TIME\n"
    "2015/16,Testshire,E31000099,Primary fires,812,00:08:04,00:01:20,00:01:44,00:05:00\n"
)


def write_published_files(inbox: Path) -> None:
    """The real files of IN_INBOX, and FIRE1001, each in its source's inbox folder."""
    for source, relative in IN_INBOX.items():
        target = inbox / source / relative.split("/")[-1]
        target.parent.mkdir(parents=True)
        shutil.copyfile(SHARED_PUBLIC / relative, target)
    (inbox / "fire1001").mkdir()
    (inbox / "fire1001" / "fire1001.csv").write_text(FIRE1001)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    # The fire stations list comes from its publisher's address: here a server on loopback.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SHARED_PUBLIC))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = (
        f"http://127.0.0.1:{server.server_address[1]}"
        "/fire_stations/home-office_fire-stations-dataset.csv"
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("BLUELIGHT_PUBLISHED_URLS", f"fire_stations={url}")
    try:
        # The hand-made inbox is the agency side, so every mart has rows.
        writers = (write_handmade_inbox, write_published_files)
        home, result = published_night(tmp_path_factory, "published", *writers)
    finally:
        mp.undo()
        server.shutdown()
    with open_published(home) as con:
        yield result, con


def test_officers_fte_per_force_at_each_as_at_date(published):
    _result, con = published
    # Table 1 of the September 2015 release, read off the sheet by hand.
    fte = dict(
        ((force, str(when)), value)
        for force, when, value in con.execute("""
        select force_name, as_at_date, fte from marts.fct_police_workforce
        where worker_type = 'Police officers'""").fetchall()
    )
    assert fte["Cleveland", "2015-09-30"] == pytest.approx(1315.32)
    assert fte["Cleveland", "2014-09-30"] == pytest.approx(1342.52)
    assert fte["Durham", "2014-09-30"] == pytest.approx(1207.22)
    forces = con.execute("""select as_at_date, count(distinct force_name)
        from marts.fct_police_workforce where worker_type = 'Police officers'
        group by 1 order by 1""").fetchall()
    assert [n for _, n in forces] == [43, 43, 43]


def test_c1_mean_per_trust_per_month(published):
    _result, con = published
    rows = dict(
        ((trust, str(month)), (mean, p90))
        for trust, month, mean, p90 in con.execute("""
        select trust_code, month, mean_response_minutes, p90_response_minutes
        from marts.fct_ambulance_response_monthly where category = 'C1'""").fetchall()
    )
    assert rows["RRU", "2019-01-01"][0] == pytest.approx(381 / 60)  # A25 = 381 s
    assert rows["RX8", "2021-01-01"] == pytest.approx((480 / 60, 823 / 60))  # A25, A26
    assert rows["RRU", "2017-08-01"][0] is None  # published as "."


def test_stations_per_fire_and_rescue_service_from_the_web_address(published):
    result, con = published
    fetched = [o for o in result["outcomes"] if o["source"] == "fire_stations"]
    assert [o["status"] for o in fetched] == ["loaded"]
    per_service = dict(
        con.execute("select frs_name, count(*) from marts.dim_fire_stations group by 1").fetchall()
    )
    assert sum(per_service.values()) == 1399 and len(per_service) == 45
    assert per_service["London"] == 103 and per_service["Kent"] == 56
    assert (
        con.execute(
            "select count(*) from marts.dim_fire_stations where frs_name = "
            "'West Sussex' and easting is null"
        ).fetchone()[0]
        == 25
    )


def test_districts_per_police_force_area_and_fire_authority(published):
    _result, con = published
    per_area = dict(
        con.execute("""
        select area_name, count(*) from marts.dim_district_lookups
        where area_type = 'police_force_area' and vintage = '2016' group by 1""").fetchall()
    )
    assert len(per_area) == 43 and sum(per_area.values()) == 348
    assert per_area["Norfolk"] == 7 and per_area["Metropolitan Police"] == 32
    fra = con.execute("""select count(distinct area_code), count(*) from marts.dim_district_lookups
        where area_type = 'fire_authority' and vintage = '2021'""").fetchone()
    assert fra == (47, 331)


def test_fire1001_time_of_day_values_become_minutes(published):
    _result, con = published
    row = con.execute("""select financial_year, incidents, total_response_minutes,
        call_handling_minutes, crew_turnout_minutes, drive_minutes
        from marts.fct_fire_response_yearly""").fetchone()
    # 00:08:04 = 8 + 4/60 min; 00:01:20 = 1.3333; 00:01:44 = 1.7333; 00:05:00 = 5.
    assert row == pytest.approx(("2015-16", 812, 8.0667, 1.3333, 1.7333, 5.0), abs=1e-4)
