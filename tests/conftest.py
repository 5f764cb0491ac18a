"""Shared fixtures: a real Prefect test harness, and warehouses built by real flow runs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import tiers  # noqa: E402
from tiers import pytest_collection_finish, pytest_collection_modifyitems  # noqa: E402, F401

from flows.settings import Settings  # noqa: E402  (sets telemetry off before the rest imports)
from flows.warehouse.runlog import PUBLISHED_OUTCOMES  # noqa: E402

SHARED_PUBLIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "public"
# The real published files of SHARED_PUBLIC, by the inbox folder each goes in.
PUBLIC_FILES = {
    "police_workforce_tables": "police_workforce/police-workforce-tabs-30sep15.ods",
    "ambsys": "ambsys/AmbSYS.csv",
    "ons_lad_pfa": "ons_lookups/LAD16_CSP16_PFA16_Dec2016.csv",
    "ons_lad_fra": "ons_lookups/lookup_ltla21_fra21.csv",
    "fire_stations": "fire_stations/home-office_fire-stations-dataset.csv",
}
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


# Debian's chromium, headless, with nothing reaching out to the network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_or_skip() -> str:
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    return chromium


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", None}
outbound: list[str] = []


def _watch_network(event: str, args: tuple) -> None:
    """Note every attempt of this process to reach a host that is not this machine."""
    if event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        if host not in LOCAL_HOSTS and not str(host).startswith("127."):
            outbound.append(f"lookup {host}")
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
        if host not in LOCAL_HOSTS and not str(host).startswith("127."):
            outbound.append(f"connect {args[1]}")


sys.addaudithook(_watch_network)


@pytest.fixture(scope="session", autouse=True)
def nothing_leaves_the_machine():
    """No telemetry from dbt, Prefect, Great Expectations or Streamlit: fails the session if any."""
    yield
    assert outbound == [], f"network calls beyond this machine: {sorted(set(outbound))}"


@pytest.fixture(scope="session", autouse=True)
def prefect_server(request):
    """One temporary Prefect server for the whole session (starting one costs ~20 s); none for
    a session of fast tests only, which run no flow."""
    from prefect.testing.utilities import prefect_test_harness

    if not request.config.stash.get(tiers.RUNS_SLOW, True):
        yield
        return
    with prefect_test_harness(server_startup_timeout=120):
        yield


# ---------------------------------------------------------------- the two backends

# The backends the pipeline, quality and publishing tests run on (flows/warehouse/backend.py).
BACKENDS = ("file", "ducklake")
# Homes whose warehouse is a lake, with the settings that say where it is; any other home's
# warehouse is the file in it.
_lakes: dict[Path, Settings] = {}
_lake_databases = iter(range(1, 10_000))
LAKE_VARIABLES = ("BLUELIGHT_BACKEND", "BLUELIGHT_LAKE_CATALOG", "BLUELIGHT_LAKE_DATA_PATH")


@pytest.fixture(scope="session")
def catalog_server():
    """One PostgreSQL server for the session (tests/postgres.py), started when a test first
    needs a lake; the test skips, saying what to install, where it or the extensions are
    missing."""
    from postgres import PostgresMissing, postgres_server

    from flows.warehouse import lake

    try:
        lake.extension_directory()
        with postgres_server() as server:
            yield server
    except (PostgresMissing, lake.LakeError) as missing:
        pytest.skip(str(missing))


def on_lake(home: Path, server) -> Path:
    """Make `home`'s warehouse a new lake: an empty catalog database on `server` and an empty
    data folder beside the home. Returns `home`."""
    catalog = server.create_database(f"lake_{home.name.lower()}_{next(_lake_databases)}")
    data = home.parent / f"{home.name}-lake"
    data.mkdir(parents=True, exist_ok=True)
    _lakes[home] = Settings(home, backend="ducklake", lake_catalog=catalog, lake_data_path=data)
    return home


def home_on(backend: str, home: Path, request) -> Path:
    """`home`, on `backend`: a lake asks for the session's catalog server."""
    if backend == "ducklake":
        return on_lake(home, request.getfixturevalue("catalog_server"))
    return home


@contextmanager
def backend_env(home: Path) -> Iterator[None]:
    """The environment a process working on `home` would have: the lake's settings when its
    warehouse is a lake; the environment as it is otherwise."""
    lake = _lakes.get(Path(home))
    if lake is None:
        yield
        return
    wanted = {
        "BLUELIGHT_BACKEND": "ducklake",
        "BLUELIGHT_LAKE_CATALOG": lake.lake_catalog,
        "BLUELIGHT_LAKE_DATA_PATH": str(lake.lake_data_path),
    }
    before = {name: os.environ.pop(name, None) for name in LAKE_VARIABLES}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def run_flow(home: Path) -> dict:
    """A real nightly flow run on `home` (on its backend); returns the flow's result, or raises
    its error."""
    from flows.schedule.nightly import nightly

    with backend_env(home):
        state = nightly(home=str(home), return_state=True)
    if state.is_failed():
        return {"status": "failed", "error": str(state.message)}
    return state.result()


def published_night(
    tmp_path_factory,
    name: str,
    *writers: Callable[[Path], None],
    backend: str = "file",
    request=None,
) -> tuple[Path, dict]:
    """A new home (a temporary folder named for `name`, on `backend`: a lake asks `request` for
    the catalog server) whose inbox each of `writers` fills in turn, after one real nightly
    flow run that must publish: the home and the flow's result."""
    home = home_on(backend, tmp_path_factory.mktemp(name), request)
    for write in writers:
        write(home / "inbox")
    result = run_flow(home)
    assert result["status"] in PUBLISHED_OUTCOMES, result
    return home, result


@contextmanager
def open_published(home: Path, snapshot: int | None = None) -> Iterator:
    """The published warehouse of `home` (on the lake, the newest published version or the
    one at `snapshot`), connected read-only for the length of the block."""
    from flows.warehouse import backend

    with backend.read(settings_for(home), snapshot) as con:
        yield con


def published_state(home: Path) -> object | None:
    """What readers of `home` see, to compare before and after a night that must publish
    nothing: None when nothing was ever published; the published file's sha256; on the lake,
    the newest published snapshot with each of its tables' rows counted and hashed (a pinned
    snapshot whose data files a night deleted would read differently)."""
    import hashlib

    from flows.warehouse import backend

    settings = settings_for(home)
    if not backend.has_published(settings):
        return None
    if not backend.on_lake(settings):
        return hashlib.sha256(settings.published_db.read_bytes()).hexdigest()
    with open_published(home) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            "order by all"
        ).fetchall()
        contents = {
            f"{schema}.{name}": con.execute(
                f'select count(*), sum(hash(t)::hugeint) from "{schema}"."{name}" as t'
            ).fetchone()
            for schema, name in tables
        }
    return backend.newest(settings), contents


@contextmanager
def served_page(chromium: str, home: Path, log_dir: Path, **page_options) -> Iterator[tuple]:
    """The dashboard served on `home` (its log in `log_dir`) and opened in headless `chromium`
    (from chromium_or_skip()) at its address: yields the page, the address and the list of
    requests the page made beyond this machine; closes the browser after the block."""
    from playwright.sync_api import sync_playwright
    from served import is_local, served_dashboard

    outside: list[str] = []
    with served_dashboard(home, log_dir) as url:
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            # Playwright gives the browser a new, empty profile of its own.
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(**page_options)
            page.on("request", lambda r: None if is_local(r.url) else outside.append(r.url))
            page.goto(url)
            yield page, url, outside
            browser.close()


# Columns that name the run that built a row: two runs of the same files differ only there.
RUN_SPECIFIC_COLUMNS = {"last_load_id"}


def mart_rows(con, table: str) -> list[tuple]:
    """A mart's rows as a rerun must reproduce them: sorted, run-specific columns left out,
    doubles to 12 significant digits (a parallel sum may differ in its last bit run to run)."""
    schema, name = table.split(".")
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        if c not in RUN_SPECIFIC_COLUMNS
    ]
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"select {quoted} from {table}")
    return sorted(
        (
            tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row)
            for row in rows.fetchall()
        ),
        key=repr,
    )


def public_file(relative: str) -> Path:
    """A real published file of SHARED_PUBLIC; the test skips where the folder is absent (a
    fresh clone outside CI has no ../shared)."""
    path = SHARED_PUBLIC / relative
    if not path.exists():
        pytest.skip(f"real published files not found at {path} (CI has them)")
    return path


def write_public_inbox(inbox: Path) -> None:
    """The real published files in their inbox folders, as a deployment starts on day one."""
    import shutil

    if not SHARED_PUBLIC.exists():
        pytest.skip(f"the real published files are not here ({SHARED_PUBLIC})")
    for folder, name in PUBLIC_FILES.items():
        (inbox / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_PUBLIC / name, inbox / folder)


def bluelight(home: Path, *argv: str) -> int:
    """The `bluelight` command, in this process, on data directory `home`."""
    from flows import cli

    before = os.environ.get("BLUELIGHT_HOME")
    os.environ["BLUELIGHT_HOME"] = str(home)
    try:
        with backend_env(home):
            return cli.main(list(argv))
    finally:
        if before is None:
            del os.environ["BLUELIGHT_HOME"]
        else:
            os.environ["BLUELIGHT_HOME"] = before


def settings_for(home: Path) -> Settings:
    """`home`'s settings, with its lake's when its warehouse is one."""
    return _lakes.get(Path(home)) or Settings(home=home)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:
    """The demo inbox at a tenth of the county's incident volume, loaded and published once."""
    from flows.demo.data import write_demo_inbox

    def write_inbox(inbox: Path) -> None:
        write_demo_inbox(inbox, seed=2014, scale=0.1, progress=lambda *_: None)

    home, _result = published_night(tmp_path_factory, "demo_home", write_inbox)
    return home


@pytest.fixture(scope="session")
def demo_lake_home(tmp_path_factory, request) -> Path:
    """demo_home's inbox loaded and published once onto a lake."""
    from flows.demo.data import write_demo_inbox

    home = on_lake(
        tmp_path_factory.mktemp("demo_lake_home"), request.getfixturevalue("catalog_server")
    )
    write_demo_inbox(home / "inbox", seed=2014, scale=0.1, progress=lambda *_: None)
    result = run_flow(home)
    assert result["status"] in PUBLISHED_OUTCOMES, result
    return home


@pytest.fixture(scope="session", params=BACKENDS)
def demo_on_each(request) -> Path:
    """The demo warehouse on each backend in turn: demo_home, then demo_lake_home."""
    return request.getfixturevalue("demo_home" if request.param == "file" else "demo_lake_home")


@pytest.fixture(scope="session")
def two_areas_home(tmp_path_factory) -> Path:
    """The hand-made inbox with the dashboard's extras and a bid in each area (B1 and B2 in
    Testshire, B4 in Othershire), loaded and published once: for who sees what."""
    from handmade import write_dashboard_extras, write_handmade_inbox, write_othershire_bid

    def write_inbox(inbox: Path) -> None:
        write_handmade_inbox(inbox)
        write_dashboard_extras(inbox)
        write_othershire_bid(inbox)

    home, _result = published_night(tmp_path_factory, "two_areas_home", write_inbox)
    return home
