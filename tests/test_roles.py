"""Roles and scope: the access file, what an account is granted, the scope cut in SQL on a
warehouse holding two areas' bids (known answers), and each role's pages through the app.

The warehouse (`two_areas_home`): Testshire (districts D1, D2; fire authority F1) ran B1 and B2,
Othershire (D3; fire authority F2) ran B4; police force P1 and ambulance trust A1 serve both.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import settings_for
from handmade import B3, fire_incident, write_rows
from streamlit.testing.v1 import AppTest

from dashboard import warehouse
from flows.load import upload
from flows.security import access_log, roles
from flows.security import scope as scope_sql

APP = Path(__file__).parent.parent / "dashboard" / "app.py"
ACCESS_FILE = """
ask = "Pat at the PCC office, bluelight@testshire.example"
claims = ["groups"]

[[grant]]
group = "testshire-fire"
role = "commissioner"
organisations = ["F1"]

[[grant]]
group = "othershire-fire"
role = "commissioner"
organisations = ["F2"]

[[grant]]
group = "othershire-analysts"
role = "analyst"
organisations = ["F2"]

[[grant]]
email = "Auditor@Audit.example"
role = "auditor"

[[grant]]
email = "ops@testshire.example"
role = "operator"
"""


def rules(tmp_path: Path, text: str = ACCESS_FILE) -> roles.AccessFile:
    path = tmp_path / "access.toml"
    path.write_text(text)
    return roles.read(path)


# ---------------------------------------------------------------- the access file


def test_a_role_comes_from_a_claim_or_an_email(tmp_path):
    granted = rules(tmp_path)
    fire = roles.resolve(granted, "a@x", {"email": "a@x", "groups": ["testshire-fire", "other"]})
    assert fire.roles == {"commissioner"}
    assert fire.scope == roles.Scope(frozenset({"F1"}), False)
    # E-mail matches whatever its case; an auditor sees every organisation and operations.
    auditor = roles.resolve(granted, "auditor@audit.example", {"email": "auditor@audit.example"})
    assert auditor.roles == {"auditor"} and auditor.scope == roles.EVERYTHING
    operator = roles.resolve(granted, "ops", {"preferred_username": "ops@testshire.example"})
    assert operator.scope == roles.Scope(frozenset(), True)
    # Grants add up: both fire authorities, and the analyst's upload with them.
    both = roles.resolve(
        granted, "b@x", {"email": "b@x", "groups": ["testshire-fire", "othershire-analysts"]}
    )
    assert both.roles == {"commissioner", "analyst"}
    assert both.scope.organisations == {"F1", "F2"}
    # A group the file does not name, in a claim it does not read, gives nothing.
    nobody = roles.resolve(granted, "c@x", {"email": "c@x", "roles": ["testshire-fire"]})
    assert not nobody.has_role and nobody.scope == roles.NOTHING


def test_no_access_file_grants_no_one(tmp_path):
    granted = roles.read(tmp_path / "absent.toml")
    assert granted.grants == () and granted.ask == roles.DEFAULT_ASK
    assert not roles.resolve(granted, "a@x", {"email": "a@x", "groups": ["x"]}).has_role


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ('role = "chief"\ngroup = "g"', "grant 1: role must be one of commissioner"),
        ('role = "commissioner"\ngroup = "g"', "grant 1: a commissioner is granted organisations"),
        ('role = "auditor"\ngroup = "g"\norganisations = ["F1"]', "remove its organisations"),
        ('role = "auditor"', "grant 1: names no group and no email"),
        ('role = "auditor"\nmail = "a@x"', "grant 1: unknown key(s) mail"),
    ],
)
def test_a_wrong_grant_is_named_with_the_fix(tmp_path, grant, message):
    with pytest.raises(roles.AccessFileError, match=re.escape(message)) as raised:
        rules(tmp_path, f"[[grant]]\n{grant}\n")
    assert str(tmp_path / "access.toml") in str(raised.value)


# ---------------------------------------------------------------- the scope, in SQL

F1, F2 = roles.Scope(frozenset({"F1"}), False), roles.Scope(frozenset({"F2"}), False)
P1 = roles.Scope(frozenset({"P1"}), False)
OPERATOR = roles.Scope(frozenset(), True)


def read(home: Path, scope: roles.Scope, sql: str) -> list[tuple]:
    """Rows of `sql` on the published warehouse within `scope`, through the dashboard's own
    connections."""
    held = warehouse._open(settings_for(home).published_db, scope)
    with held.con.cursor() as cursor:
        cursor.execute("use warehouse")
        return cursor.execute(sql).fetchall()


def column(home: Path, scope: roles.Scope, sql: str) -> list:
    return sorted(row[0] for row in read(home, scope, sql))


BIDS = "select bid_id from marts.dim_bids"
BENEFITS = "select benefit_id from marts.dim_benefits"
SITES = "select distinct site_id from marts.fct_estate_sites_yearly"
STAFF = "select organisation from marts.fct_staffing_monthly"


def test_each_area_reads_its_own_bids_benefits_and_agency_data(two_areas_home):
    home = two_areas_home
    # Testshire's fire authority: Testshire's bids, benefits and sites; staff of every
    # organisation serving Testshire (Test Police, Test Fire F1: 2 + 3 loaded rows).
    assert column(home, F1, BIDS) == ["B1", "B2"]
    assert column(home, F1, BENEFITS) == ["BEN1", "BEN2", "BEN3", "BEN4"]
    assert column(home, F1, SITES) == ["S1", "S2", "S3"]
    assert column(home, F1, STAFF) == ["Test Fire F1"] * 3 + ["Test Police"] * 2
    assert column(home, F1, "select bid_id from marts.fct_bid_overview") == ["B1", "B2"]
    # Othershire's: B4 alone, its site S4, and the police staff (P1 serves Othershire too).
    assert column(home, F2, BIDS) == ["B4"]
    assert column(home, F2, BENEFITS) == ["BEN6"]
    assert column(home, F2, SITES) == ["S4"]
    assert column(home, F2, STAFF) == ["Test Police"] * 2
    assert column(home, F2, "select distinct bid_id from marts.fct_benefit_realisation") == ["B4"]
    # The police force serves both areas: every bid.
    assert column(home, P1, BIDS) == ["B1", "B2", "B4"]
    assert column(home, roles.EVERYTHING, BIDS) == ["B1", "B2", "B4"]


def test_published_statistics_and_method_are_whole_and_operations_only_for_operations(
    two_areas_home,
):
    home = two_areas_home
    whole = "select count(*) from reference.response_standards"
    assert read(home, F2, whole) == read(home, roles.EVERYTHING, whole)
    # The row set aside (an FTE of "lots") is operations: the operator sees it, no bid.
    assert read(home, OPERATOR, "select value from audit.quarantine") == [("lots",)]
    assert column(home, OPERATOR, BIDS) == []
    for scope, relation in ((F1, "audit.quarantine"), (F1, "raw.staffing"), (OPERATOR, "raw.bids")):
        with pytest.raises(Exception, match="does not exist"):
            read(home, scope, f"select * from {relation}")


FILES = "select original_name from audit.loaded_files where status = 'loaded'"


def test_each_area_reads_the_files_that_concern_it(two_areas_home):
    """The lineage a reader may see: a file is theirs when a row of it in force concerns one of
    their counties by its district, organisation or bid (marts.fct_file_counties)."""
    home = two_areas_home
    # Both counties' rows: the districts, the fires (D1, D2 and D3) and the police staffing
    # (Test Police serves both).
    both = ["boundaries/districts.csv", "incidents/fire.csv", "staffing/test_staffing.csv"]
    testshire = [
        "benefits_register/B1.xlsx",
        "benefits_register/B2.xlsx",
        "bids/bids.csv",
        "estates/estate_return.csv",  # sites in D1 and D2
        "finance/test_fire.csv",  # Test Fire F1's
    ]
    othershire = ["benefits_register/B4.xlsx", "bids/bids_b4.csv", "estates/othershire.csv"]
    assert column(home, F1, FILES) == sorted(both + testshire)
    assert column(home, F2, FILES) == sorted(both + othershire)
    assert column(home, P1, FILES) == sorted(both + testshire + othershire)
    # Operations see every file loaded, as the whole warehouse does.
    assert column(home, roles.EVERYTHING, FILES) == sorted(both + testshire + othershire)
    assert column(home, OPERATOR, FILES) == sorted(both + testshire + othershire)


def test_a_commissioner_reads_which_checks_passed_never_the_values_they_saw(two_areas_home):
    home = two_areas_home
    outcomes = "select suite, expectation, column_name, success from audit.quality_results"
    seen = "select count(*) from audit.quality_results where observed_value is not null"
    assert read(home, F2, outcomes) == read(home, roles.EVERYTHING, outcomes)
    assert read(home, roles.EVERYTHING, seen)[0][0] > 0
    assert read(home, F2, seen) == [(0,)]
    assert read(home, OPERATOR, seen) == read(home, roles.EVERYTHING, seen)
    values = "unexpected_count is not null or unexpected_sample is not null"
    assert read(home, F2, f"select count(*) from audit.quality_results where {values}") == [(0,)]


def test_every_mart_has_a_scope_rule(two_areas_home):
    """A mart without one would be hidden from every commissioner (and from the dashboard's
    pages for them): each must say whether it is shown whole or cut by which column."""
    marts = read(
        two_areas_home,
        roles.EVERYTHING,
        "select 'marts.' || table_name from information_schema.tables "
        "where table_catalog = 'warehouse' and table_schema = 'marts'",
    )
    assert {m for (m,) in marts} - set(scope_sql.SCOPED_BY) == set()


def test_a_grant_is_a_parameter_never_sql(two_areas_home):
    sly = roles.Scope(frozenset({"F1') or ('1'='1", "nobody"}), False)
    assert column(two_areas_home, sly, BIDS) == []


def test_the_query_cache_is_kept_per_scope(two_areas_home, monkeypatch):
    import streamlit as st

    from dashboard import queries

    monkeypatch.setenv("BLUELIGHT_HOME", str(two_areas_home))
    st.cache_data.clear()
    seen = {}
    for name, scope in (("F1", F1), ("F2", F2), ("F1 again", F1)):
        monkeypatch.setattr(warehouse, "scope", lambda scope=scope: scope)
        seen[name] = sorted(queries.bids().bid_id)
    assert seen == {"F1": ["B1", "B2"], "F2": ["B4"], "F1 again": ["B1", "B2"]}


# ---------------------------------------------------------------- each role's pages

ISSUER = "http://127.0.0.1:9/unused"  # sign-in configured; AppTest never reaches the provider


@pytest.fixture
def signed_in_app(two_areas_home, monkeypatch, tmp_path):
    """A function giving the app run as a signed-in account with these claims."""
    import streamlit as st

    monkeypatch.setenv("BLUELIGHT_HOME", str(two_areas_home))
    monkeypatch.setenv("BLUELIGHT_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("BLUELIGHT_OIDC_CLIENT_ID", "bluelight")
    monkeypatch.setenv("BLUELIGHT_OIDC_CLIENT_SECRET", "s3cret")
    access = tmp_path / "access.toml"
    access.write_text(ACCESS_FILE)
    monkeypatch.setenv("BLUELIGHT_ACCESS_FILE", str(access))
    monkeypatch.setenv("BLUELIGHT_ACCESS_LOG", str(tmp_path / "access.jsonl"))
    st.cache_data.clear()

    def run(email: str, groups=(), issued: float | None = None, query=None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.user = {
            "is_logged_in": True,
            "email": email,
            "sub": f"sub-{email}",
            "groups": list(groups),
            "iat": int(issued or time.time()),
        }
        if query:
            at.query_params.update(query)
        return at.run()

    return run


def pages(at: AppTest) -> list[str]:
    return [info.get("page_name") for info in at._registered_pages.values()]


def text(at: AppTest) -> str:
    return " ".join(str(e.value) for e in (*at.markdown, *at.title, *at.warning, *at.caption))


def log_of(tmp_path: Path) -> list[dict]:
    return [e for _, e in access_log.entries(tmp_path / "access.jsonl")]


def test_a_commissioner_sees_their_area_and_not_another_even_by_address(signed_in_app, tmp_path):
    at = signed_in_app("chief@othershire.example", ["othershire-fire"])
    assert not at.exception
    assert "Bid B4" in text(at) and "Bid B1" not in text(at)
    assert "Upload" not in str(pages(at)) and "Data health" not in str(pages(at))
    with pytest.raises(ValueError, match="not a registered page|Could not find"):
        at.switch_page("views/data_health.py")
    # Testshire's bid by its address: refused, said so, logged, never shown.
    at = signed_in_app("chief@othershire.example", ["othershire-fire"])
    at.query_params["bid"] = "B1"
    at.switch_page("views/bid.py").run()
    assert "No bid B1 is among the bids you may see" in text(at)
    assert "Bid B1" not in text(at) and at.title[0].value.startswith("B4")
    refusals = [e for e in log_of(tmp_path) if e["event"] == "refusal"]
    assert refusals[-1]["bid"] == "B1" and refusals[-1]["who"] == "chief@othershire.example"


def test_an_auditor_sees_every_bid_and_the_operations_pages(signed_in_app):
    at = signed_in_app("auditor@audit.example")
    assert not at.exception
    assert all(f"Bid {b}" in text(at) for b in ("B1", "B2", "B4"))
    for page in ("Data health", "Access log"):
        assert page in str(pages(at))
    assert "Upload" not in str(pages(at))
    at.switch_page("views/data_health.py").run()
    assert not at.exception
    # A link to a bid of theirs shows it (the first bid, B1, is shown otherwise).
    at.query_params["bid"] = "B4"
    at.switch_page("views/bid.py").run()
    assert at.title[0].value == "B4: Bid B4"


def test_an_operator_has_data_health_and_no_bid(signed_in_app):
    at = signed_in_app("ops@testshire.example")
    assert not at.exception
    assert at.title[0].value == "National picture"
    with pytest.raises(ValueError):
        at.switch_page("views/bid.py")
    at.switch_page("views/access_log.py").run()
    assert not at.exception and "The log is whole" in " ".join(s.value for s in at.success)


def test_an_analyst_has_the_upload_page(signed_in_app):
    at = signed_in_app("analyst@othershire.example", ["othershire-analysts"])
    assert "Upload" in str(pages(at))
    at.switch_page("views/upload.py").run()
    assert not at.exception


def test_an_account_with_no_role_is_told_whom_to_ask_and_nothing_else(signed_in_app, tmp_path):
    at = signed_in_app("stranger@example.org", ["someone-else"])
    assert at.title[0].value == "Ask for access"
    assert "Pat at the PCC office" in text(at) and "stranger@example.org" in text(at)
    assert "Bid B" not in text(at)
    entry = log_of(tmp_path)[-1]
    assert (entry["event"], entry["who"]) == ("refusal", "stranger@example.org")


def test_a_sign_in_older_than_the_session_lifetime_is_asked_again(signed_in_app, tmp_path):
    at = signed_in_app(
        "chief@othershire.example", ["othershire-fire"], issued=time.time() - 9 * 3600
    )
    assert at.button[0].label == "Sign in" and "Bid B4" not in text(at)
    fresh = signed_in_app("chief@othershire.example", ["othershire-fire"])
    assert "Bid B4" in text(fresh)
    sign_ins = [e for e in log_of(tmp_path) if e["event"] == "sign-in"]
    assert [e["who"] for e in sign_ins] == ["chief@othershire.example"]


ROLE_ACCOUNTS = {  # an account of each role, as the access file above grants it
    "commissioner": ("chief@othershire.example", ["othershire-fire"]),
    "analyst": ("analyst@othershire.example", ["othershire-analysts"]),
    "auditor": ("auditor@audit.example", []),
    "operator": ("ops@testshire.example", []),
}


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_every_page_of_each_role_runs_for_it_within_its_scope(signed_in_app, role):
    from dashboard.pages import PAGES, ROLE_PAGES

    email, groups = ROLE_ACCOUNTS[role]
    at = signed_in_app(email, groups)
    assert sorted(pages(at)) == sorted(ROLE_PAGES[role])
    for title in ROLE_PAGES[role]:
        at.switch_page(f"views/{PAGES[title]}").run()
        assert not at.exception, (title, at.exception)
        if role in ("commissioner", "analyst"):  # Othershire's: nothing of Testshire's bids
            assert not any(f"B{n}: Bid B{n}" in text(at) for n in (1, 2)), title


# ---------------------------------------------------------------- uploads within scope


@pytest.fixture
def upload_home(two_areas_home, tmp_path) -> Path:
    """A data directory of the test's own holding the two areas' published warehouse."""
    import shutil

    target = settings_for(tmp_path)
    target.warehouse_dir.mkdir(parents=True)
    shutil.copyfile(settings_for(two_areas_home).published_db, target.published_db)
    return tmp_path


def send(home: Path, name: str, source: str, rows: list[dict]) -> upload.Receipt:
    """`rows` as a CSV sent by Othershire's analyst (granted fire authority F2)."""
    path = home / "outbox" / name
    write_rows(path, source, rows)
    return upload.receive(
        settings_for(home), name, path.read_bytes(), "analyst@x", source, frozenset({"F2"})
    )


def test_an_analyst_sends_rows_of_their_own_area_only(upload_home):
    call = datetime(2017, 5, 2, 10, 0, 0)
    own = send(
        upload_home, "incidents_own.csv", "incidents", [fire_incident(30, "D3", call, 60, 480)]
    )
    assert own.verdict.verdict == "load" and own.placed_as
    # A Testshire district (row 3): the whole file is refused, the row named, nothing placed.
    mixed = [fire_incident(31, "D3", call, 60, 480), fire_incident(32, "D1", call, 60, 480)]
    refused = send(upload_home, "incidents_mixed.csv", "incidents", mixed)
    assert refused.verdict.verdict == "reject" and refused.placed_as is None
    assert [(p.row, p.column, p.value) for p in refused.verdict.problems] == [
        (3, "district_code", "D1")
    ]
    # Testshire's bid B1 moved into Othershire: another area's bid, refused.
    moved = {**B3, "bid_id": "B1", "county": "Othershire"}
    taken = send(
        upload_home, "bids.csv", "bids", [moved, {**B3, "bid_id": "B9", "county": "Othershire"}]
    )
    assert [(p.row, p.column, p.rule) for p in taken.verdict.problems] == [
        (2, "bid_id", "a bid of another area")
    ]
    staff = [
        {
            "month": "2016-04-01",
            "organisation": "Test Fire F1",
            "service": "fire",
            "role": "firefighter",
            "fte": "1",
            "headcount": "1",
            "shared_post": "false",
        }
    ]
    other = send(upload_home, "staffing.csv", "staffing", staff)
    assert [(p.row, p.column, p.value) for p in other.verdict.problems] == [
        (2, "organisation", "Test Fire F1")
    ]
    inbox = settings_for(upload_home).inbox
    assert [p.name.split("_")[0] for p in inbox.rglob("*.csv")] == ["incidents"]
