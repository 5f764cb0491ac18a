"""Marts a deployment has from published national statistics alone: co-terminosity of police
force areas and fire and rescue authorities from the ONS lookups, and England and Wales medians
beside each force's and trust's figures.

One data directory, two nights. The first loads hand-made lookups, workforce tables and AmbSYS
(every figure worked out by hand below); the second loads the real ONS lookups, a newer vintage
of each, which the co-terminosity mart then reads instead. Both nights carry the hand-made agency
inbox too, so each publishes and the marts are read from the published warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SHARED_PUBLIC, open_published, published_night, run_flow
from handmade import write_handmade_inbox
from workbooks import REGIONS, usual_layout, write_workbook

COLUMNS = [
    "area_type",
    "area_code",
    "area_name",
    "partner_type",
    "districts",
    "matched_districts",
    "partners",
    "main_partner_code",
    "main_partner_name",
    "districts_in_main_partner",
    "district_share",
    "is_coterminous",
    "pfa_vintage",
    "fra_vintage",
]
PFA, FRA = "police_force_area", "fire_authority"
REAL_LOOKUPS = {
    "ons_lad_pfa": "ons_lookups/LAD16_CSP16_PFA16_Dec2016.csv",
    "ons_lad_fra": "ons_lookups/lookup_ltla21_fra21.csv",
}

# --- hand-made files -----------------------------------------------------------------------------

# Seven districts. The police lookup (2015) has D1-D5; the fire lookup (2019) has D1-D4, D6 and
# D7: D5 is not in the fire vintage (merged into D6 there) and D6, D7 are not in the police one.
#   district  police (2015)   fire (2019)
#   D1        P1 North        F1 North
#   D2        P1 North        F1 North
#   D3        P2 South        F2 East
#   D4        P2 South        F3 West
#   D5        P2 South        -
#   D6        -               F3 West
#   D7        -               F4 Island
D = {n: f"E0600090{n}" for n in range(1, 8)}
P1, P2 = ("E23000901", "North Test Police"), ("E23000902", "South Test Police")
F1, F2 = ("E31000901", "North Test Fire"), ("E31000902", "East Test Fire")
F3, F4 = ("E31000903", "West Test Fire"), ("E31000904", "Island Test Fire")
POLICE_2015 = [(1, P1), (2, P1), (3, P2), (4, P2), (5, P2)]
FIRE_2019 = [(1, F1), (2, F1), (3, F2), (4, F3), (6, F3), (7, F4)]
# An older police vintage putting every district in one force: the mart must not read it.
OLD_FORCE = ("E23000909", "Old Test Police")


def write_lookups(inbox: Path) -> None:
    police = ["LAD15CD,LAD15NM,CSP15CD,CSP15NM,PFA15CD,PFA15NM,FID"]
    police += [
        f"{D[n]},District {n},E2200090{n},Partnership {n},{code},{name},{n}"
        for n, (code, name) in POLICE_2015
    ]
    old = ["LAD11CD,LAD11NM,PFA11CD,PFA11NM"]
    old += [f"{D[n]},District {n},{OLD_FORCE[0]},{OLD_FORCE[1]}" for n in range(1, 8)]
    fire = ["LAD19CD,LAD19NM,FRA19CD,FRA19NM,FID"]
    fire += [f"{D[n]},District {n},{code},{name},{n}" for n, (code, name) in FIRE_2019]
    for folder, name, lines in (
        ("ons_lad_pfa", "LAD15_CSP15_PFA15.csv", police),
        ("ons_lad_pfa", "LAD11_PFA11.csv", old),
        ("ons_lad_fra", "LAD19_FRA19.csv", fire),
    ):
        (inbox / folder).mkdir(parents=True, exist_ok=True)
        (inbox / folder / name).write_text("\n".join(lines) + "\n")


def officers(n: int, k: int) -> float | None:
    """Police officers FTE of force n (1..43, in the publisher's order) at as-at date k (0..2).
    (37 n) mod 43 runs over 0..42 once as n runs over 1..43, so at the first date the forces hold
    500, 510, ..., 920, one each; South Wales (n = 43) holds 500."""
    base = 500 + 10 * (37 * n % 43)
    if k == 1:
        return None if n == 43 else 2 * base  # South Wales publishes nothing at the second date
    return base if k == 0 else base + 0.5


def staff(n: int, k: int) -> float:
    return 100.0 + n + k


def sheet_rows(figure) -> list[list]:
    """Each region's subtotal, then its forces, then the England and Wales total."""
    rows, every, n = [], [], 0
    for region, forces in REGIONS.items():
        figures = []
        for force in forces:
            n += 1
            figures.append([force, *(figure(n, k) for k in range(3))])
        rows.append([region, *(sum(f[k] or 0 for f in figures) for k in (1, 2, 3))])
        rows.extend(figures)
        every.extend(figures)
    rows.append(["England and Wales", *(sum(f[k] or 0 for f in every) for k in (1, 2, 3))])
    return rows


def write_workforce(inbox: Path) -> None:
    folder = inbox / "police_workforce_tables"
    folder.mkdir(parents=True)
    title = "Table {}: {} by police force area, English region and Wales, 2014 and 2015"
    write_workbook(
        folder / "police-workforce-tabs.xlsx",
        {
            "Index": [["Index"]],
            "Table_1": usual_layout(sheet_rows(officers), title.format(1, "Police officers")),
            "Table_2": usual_layout(sheet_rows(staff), title.format(2, "Police staff")),
        },
    )


# AmbSYS seconds: (year, month, region, org code, org name, A8, A25, A26, A10, A31, A32); the
# other measures a release carries (C1T, C3 and C4) are "." (not published). England's and the
# regions' rows carry figures far from the trusts' own, so counting them would move every median.
AMBSYS_MEASURES = ["A8", "A9", "A10", "A11", "A12", "A25", "A26", "A31", "A32"]
AMBSYS_MEASURES += ["A34", "A35", "A37", "A38"]
AMBSYS_ROWS = [
    (2020, 1, "England", "Eng", "England", 9000, 100, 200, 9000, 300, 400),
    (2020, 1, "London", "Y56", "London", 1000, 50, 100, 2000, 150, 250),
    (2020, 1, "Y56", "RRU", "London Ambulance Service", 500, 360, 800, 900, 1200, 3000),
    (2020, 1, "Y62", "RX6", "North East Ambulance Service", 400, 420, 900, 800, 1500, 3600),
    (2020, 1, "Y62", "RX7", "North West Ambulance Service", 300, 480, 1000, 700, 1800, 4200),
    (2020, 1, "Y60", "RYA", "West Midlands Ambulance Service", 200, 600, ".", 600, 2400, 4800),
    (2020, 2, "England", "Eng", "England", 9000, 100, 200, 9000, 300, "."),
    (2020, 2, "Y56", "RRU", "London Ambulance Service", 500, 300, 700, 900, 1000, "."),
    (2020, 2, "Y62", "RX6", "North East Ambulance Service", 400, 540, 1100, 800, 2000, "."),
    (2020, 2, "Y62", "RX7", "North West Ambulance Service", 300, 420, 950, 700, 3000, "."),
]


def write_ambsys(inbox: Path) -> None:
    lines = [",".join(["Year", "Month", "Region", "Org Code", "Org Name", *AMBSYS_MEASURES])]
    for *org, a8, a25, a26, a10, a31, a32 in AMBSYS_ROWS:
        given = {"A8": a8, "A25": a25, "A26": a26, "A10": a10, "A31": a31, "A32": a32}
        lines.append(",".join(map(str, [*org, *(given.get(m, ".") for m in AMBSYS_MEASURES)])))
    (inbox / "ambsys").mkdir()
    (inbox / "ambsys" / "AmbSYS.csv").write_text("\n".join(lines) + "\n")


def coterminosity(con) -> dict:
    cursor = con.execute("select * from marts.fct_area_coterminosity")
    assert [c[0] for c in cursor.description] == COLUMNS
    return {(row[0], row[1]): row for row in cursor.fetchall()}


def approx_row(*values):
    return pytest.approx(values, abs=1e-9)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    # The hand-made inbox is the agency side, so the night publishes.
    writers = (write_handmade_inbox, write_lookups, write_workforce, write_ambsys)
    home, result = published_night(tmp_path_factory, "national", *writers)
    inbox = home / "inbox"
    assert [o for o in result["outcomes"] if o["status"] != "loaded"] == []
    with open_published(home) as con:
        first = {
            "coterminosity": coterminosity(con),
            "workforce": con.execute("""
                select table_name, force_name, as_at_date::varchar, fte, median_fte_england_wales
                from marts.fct_police_workforce""").fetchall(),
            "ambulance": con.execute("""
                select trust_code, month::varchar, category, mean_response_minutes,
                       p90_response_minutes, england_median_mean_minutes,
                       england_median_p90_minutes
                from marts.fct_ambulance_response_monthly""").fetchall(),
        }
    second = None
    if SHARED_PUBLIC.exists():
        for source, relative in REAL_LOOKUPS.items():
            (inbox / source).mkdir(exist_ok=True)
            shutil.copyfile(SHARED_PUBLIC / relative, inbox / source / Path(relative).name)
        result = run_flow(home)
        assert result["status"] == "succeeded", result
        assert [o for o in result["outcomes"] if o["status"] != "loaded"] == []
        with open_published(home) as con:
            second = coterminosity(con)
    return first, second


@pytest.fixture
def real(nights):
    if nights[1] is None:
        pytest.skip(f"the shared public data is not at {SHARED_PUBLIC}")
    return nights[1]


# --- co-terminosity, hand-made -------------------------------------------------------------------


def test_coterminosity_of_hand_made_lookups_in_both_directions(nights):
    rows = nights[0]["coterminosity"]
    v = ("2015", "2019")  # the latest of each lookup: the 2011 police lookup is not read
    assert rows == {
        # P1: D1, D2, both in the fire lookup, both in F1; F1's matched districts are D1, D2,
        # both in P1: the two cover the same districts.
        (PFA, P1[0]): approx_row(PFA, *P1, FRA, 2, 2, 1, *F1, 2, 1.0, True, *v),
        # P2: D3, D4, D5; D5 is not in the fire lookup, so 2 matched: D3 in F2, D4 in F3. A tie,
        # one each: the lower code (F2) is the main partner, with 1 of 2.
        (PFA, P2[0]): approx_row(PFA, *P2, FRA, 3, 2, 2, *F2, 1, 0.5, False, *v),
        (FRA, F1[0]): approx_row(FRA, *F1, PFA, 2, 2, 1, *P1, 2, 1.0, True, *v),
        # F2: D3, in P2 (share 1); but P2's matched districts are D3 and D4, and D4 is in F3:
        # P2's share back in F2 is 1/2, so not co-terminous.
        (FRA, F2[0]): approx_row(FRA, *F2, PFA, 1, 1, 1, *P2, 1, 1.0, False, *v),
        # F3: D4 and D6; D6 is not in the police lookup: 1 matched, D4, in P2 (again 1/2 back).
        (FRA, F3[0]): approx_row(FRA, *F3, PFA, 2, 1, 1, *P2, 1, 1.0, False, *v),
        # F4: D7 alone, not in the police lookup: nothing matched, no partner, no share.
        (FRA, F4[0]): approx_row(FRA, *F4, PFA, 1, 0, 0, None, None, 0, None, False, *v),
    }


# --- co-terminosity, the real ONS lookups --------------------------------------------------------


def test_real_lookups_replace_the_older_vintages(real):
    assert {(t, r[12], r[13]) for (t, _), r in real.items()} == {
        (PFA, "2016", "2021"),
        (FRA, "2016", "2021"),
    }
    per_type = {t: sum(1 for (kind, _) in real if kind == t) for t in (PFA, FRA)}
    assert per_type == {PFA: 43, FRA: 47}  # every area of each lookup, none of the hand-made
    assert sum(r[4] for (t, _), r in real.items() if t == PFA) == 348
    assert sum(r[4] for (t, _), r in real.items() if t == FRA) == 331


def test_avon_and_somerset_police_force_area(real):
    # LAD16_CSP16_PFA16_Dec2016.csv, PFA16CD = E23000036: 9 districts (Bath and North East
    # Somerset, Bristol, Mendip, North Somerset, Sedgemoor, South Gloucestershire, South
    # Somerset, Taunton Deane, West Somerset). In lookup_ltla21_fra21.csv Taunton Deane
    # (E07000190) and West Somerset (E07000191) are not there (Somerset West and Taunton,
    # E07000246, since 2019): 7 matched. Bath, Bristol, North Somerset and South Gloucestershire
    # are in Avon (E31000001): 4; Mendip, Sedgemoor and South Somerset in Devon & Somerset
    # (E31000011): 3. Main partner Avon, 4 of 7.
    assert real[PFA, "E23000036"] == approx_row(
        PFA, "E23000036", "Avon and Somerset", FRA, 9, 7, 2, "E31000001", "Avon", 4, 4 / 7,
        False, "2016", "2021",
    )  # fmt: skip


def test_devon_and_somerset_fire_authority(real):
    # lookup_ltla21_fra21.csv, fra21_code = E31000011: 14 districts (Mendip, Sedgemoor, South
    # Somerset, Somerset West and Taunton, Plymouth, Torbay and the 8 Devon districts: East Devon,
    # Exeter, Mid Devon, North Devon, South Hams, Teignbridge, Torridge, West Devon). Somerset
    # West and Taunton (E07000246) is not in the 2016 police lookup: 13 matched. In it Plymouth,
    # Torbay and the 8 Devon districts are in Devon & Cornwall (E23000035): 10; Mendip,
    # Sedgemoor and South Somerset in Avon and Somerset (E23000036): 3. Main partner Devon &
    # Cornwall, 10 of 13.
    assert real[FRA, "E31000011"] == approx_row(
        FRA, "E31000011", "Devon & Somerset", PFA, 14, 13, 2, "E23000035", "Devon & Cornwall",
        10, 10 / 13, False, "2016", "2021",
    )  # fmt: skip


def test_avon_fire_lies_wholly_in_avon_and_somerset_but_is_not_coterminous(real):
    # E31000001: Bath and North East Somerset, Bristol, North Somerset, South Gloucestershire,
    # all four in the 2016 police lookup and all in Avon and Somerset: share 1. Avon and
    # Somerset's share back is 4 of its 7 matched (above), so the two are not co-terminous.
    assert real[FRA, "E31000001"] == approx_row(
        FRA, "E31000001", "Avon", PFA, 4, 4, 1, "E23000036", "Avon and Somerset", 4, 1.0, False,
        "2016", "2021",
    )  # fmt: skip


def test_dorset_districts_all_merged_before_the_fire_vintage(real):
    # E23000039 Dorset: 8 districts in 2016 (Bournemouth, Christchurch, East Dorset, North
    # Dorset, Poole, Purbeck, West Dorset, Weymouth and Portland); in 2019 they became Dorset
    # (E06000059) and Bournemouth, Christchurch and Poole (E06000058): none is in the 2021 fire
    # lookup under its 2016 code.
    assert real[PFA, "E23000039"] == approx_row(
        PFA, "E23000039", "Dorset", FRA, 8, 0, 0, None, None, 0, None, False, "2016", "2021"
    )


def test_norfolk_police_and_fire_are_coterminous(real):
    # The same 7 Norfolk districts under the same codes in both lookups, each in Norfolk.
    assert real[PFA, "E23000024"][4:12] == approx_row(7, 7, 1, "E31000026", "Norfolk", 7, 1.0, True)
    assert real[FRA, "E31000026"][4:12] == approx_row(7, 7, 1, "E23000024", "Norfolk", 7, 1.0, True)


# --- England and Wales medians -------------------------------------------------------------------


def test_median_fte_across_the_43_forces(nights):
    rows = nights[0]["workforce"]
    medians = {(table, as_at): set() for table, _force, as_at, _fte, _median in rows}
    for table, _force, as_at, _fte, median in rows:
        medians[table, as_at].add(median)
    assert medians == {
        # First date: 500, 510, ..., 920, one force each: the 22nd of 43 is 710.
        ("Table_1", "2014-09-30"): {710.0},
        # Second date: twice those, South Wales (500 -> 1000) blank: 1020, 1040, ..., 1840, 42
        # figures; the 21st and 22nd are 1420 and 1440: 1430.
        ("Table_1", "2015-03-31"): {1430.0},
        # Third date: 500.5 ... 920.5: 710.5.
        ("Table_1", "2015-09-30"): {710.5},
        # Police staff 100 + n + k: the 22nd force, 122 + k. The regional and national totals
        # on each sheet are not forces and move no median.
        ("Table_2", "2014-09-30"): {122.0},
        ("Table_2", "2015-03-31"): {123.0},
        ("Table_2", "2015-09-30"): {124.0},
    }
    figures = {}
    for table, _force, as_at, fte, _median in rows:
        figures[table, as_at] = figures.get((table, as_at), 0) + (fte is not None)
    assert figures == {key: 42 if key == ("Table_1", "2015-03-31") else 43 for key in medians}


def test_england_median_response_across_the_trusts(nights):
    rows = nights[0]["ambulance"]
    medians = {}
    for _trust, month, category, _mean, _p90, median_mean, median_p90 in rows:
        medians.setdefault((month, category), set()).add((median_mean, median_p90))
    # Seconds over 60. January C1 means 360, 420, 480, 600: (420 + 480) / 2 = 450 s; 90th
    # centiles 800, 900, 1000 (RYA's not published): 900 s. C2 means 1200, 1500, 1800, 2400:
    # 1650 s; 90th 3000, 3600, 4200, 4800: 3900 s. February C1 means 300, 540, 420: 420 s; 90th
    # 700, 1100, 950: 950 s. C2 means 1000, 2000, 3000: 2000 s; no 90th centile published.
    # England (100 s) and London region (50 s) are not trusts and are not counted.
    assert medians == {
        ("2020-01-01", "C1"): {(450 / 60, 900 / 60)},
        ("2020-01-01", "C2"): {(1650 / 60, 3900 / 60)},
        ("2020-01-01", "C3"): {(None, None)},
        ("2020-01-01", "C4"): {(None, None)},
        ("2020-02-01", "C1"): {(420 / 60, 950 / 60)},
        ("2020-02-01", "C2"): {(2000 / 60, None)},
        ("2020-02-01", "C3"): {(None, None)},
        ("2020-02-01", "C4"): {(None, None)},
    }
    trusts = {(trust, month) for trust, month, *_ in rows}
    assert len(trusts) == 7 and not {t for t, _ in trusts} & {"Eng", "Y56"}
    rya = [r for r in rows if r[0] == "RYA" and r[2] == "C1"]
    assert rya == [("RYA", "2020-01-01", "C1", 10.0, None, 7.5, 15.0)]
