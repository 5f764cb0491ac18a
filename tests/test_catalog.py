"""`bluelight catalog start|stop` (flows/warehouse/catalog_server.py): a PostgreSQL for the lake's
catalog in a directory of the user's, on Debian's server. The string it prints is all a loader
needs to attach the lake; stop stops the server (the lake is then out of reach) and start brings
it back with the lake as it was; `--remove` deletes the directory; without PostgreSQL installed
it refuses, saying what to install."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from test_lake import extensions  # noqa: F401  (the lake's extensions, or a skip)

from flows.cli import main
from flows.settings import Settings
from flows.warehouse import catalog_server, lake


@pytest.fixture
def directory(extensions):  # noqa: F811
    """A new folder for the catalog in the system's temporary folder (as root the server runs
    as `postgres`, which pytest's own temporary folders keep out)."""
    try:
        catalog_server.bin_dir()
    except catalog_server.PostgresMissing as missing:
        pytest.skip(str(missing))
    parent = Path(tempfile.mkdtemp(prefix="bluelight-catalog-test-"))
    parent.chmod(0o755)
    yield parent / "catalog"
    if catalog_server.running(parent / "catalog"):
        catalog_server.stop(parent / "catalog")
    shutil.rmtree(parent, ignore_errors=True)


def _printed_catalog(out: str) -> str:
    return re.search(r"^export BLUELIGHT_LAKE_CATALOG='([^']+)'$", out, re.M).group(1)


def _lake(catalog: str, data: Path) -> Settings:
    return Settings(
        data.parent / "home", backend="ducklake", lake_catalog=catalog, lake_data_path=data
    )


def test_the_printed_catalog_attaches_the_lake_and_stop_puts_it_out_of_reach(
    directory, tmp_path, capsys
):
    assert main(["catalog", "start", "--dir", str(directory)]) == 0
    out = capsys.readouterr().out
    catalog = _printed_catalog(out)
    assert "password" not in catalog and "user=bluelight_loader" in catalog
    assert f"bluelight catalog stop --dir {directory}" in out
    settings = _lake(catalog, tmp_path / "lake_data")
    con = lake.connect()
    lake.attach(con, settings)
    con.execute("create table lake.main.counties as select 'Testshire' as county")
    con.close()

    assert main(["catalog", "stop", "--dir", str(directory)]) == 0
    assert "stopped" in capsys.readouterr().out
    with pytest.raises(duckdb.Error):
        lake.attach(lake.connect(), settings, read_only=True)

    # Started again (the same directory, port and socket): the lake as it was.
    assert main(["catalog", "start", "--dir", str(directory)]) == 0
    assert _printed_catalog(capsys.readouterr().out) == catalog
    con = lake.connect()
    lake.attach(con, settings, read_only=True)
    assert con.execute("from lake.main.counties").fetchall() == [("Testshire",)]
    con.close()

    assert main(["catalog", "stop", "--dir", str(directory), "--remove"]) == 0
    assert not directory.exists()


def test_a_directory_holding_something_else_is_refused(directory, capsys):
    directory.mkdir()
    (directory / "notes.txt").write_text("mine")
    assert main(["catalog", "start", "--dir", str(directory)]) == 1
    assert "is not empty and holds no catalog" in capsys.readouterr().err
    assert (directory / "notes.txt").read_text() == "mine"


def test_without_postgresql_installed_it_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no initdb on PATH
    monkeypatch.setattr(catalog_server, "DEBIAN_PROGRAMS", tmp_path / "postgresql")
    assert main(["catalog", "start", "--dir", str(tmp_path / "catalog")]) == 1
    assert "apt-get install postgresql" in capsys.readouterr().err
    assert not (tmp_path / "catalog").exists()
