"""The accepted tables: a file's rows quarantine lets through, parsed once by the load, beside raw's
text; filled from raw on a warehouse built before them; never holding a load raw does not."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from flows.load import raw
from flows.load.inbox import InboxFile
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.warehouse.schema import ensure_schema

HEADER = ",".join(SOURCES["boundaries"].column_names)
ROWS = [
    "D1,Dale,Shire,rural,100,P,Police,F,Fire,A,Amb",
    "D2,Hill,Shire,urban,many,P,Police,F,Fire,A,Amb",  # population not a number: quarantined
    'D3,Vale,Shire,urban,"1,200",P,Police,F,Fire,A,Amb',
]
LINEAGE = "_load_id, _loaded_at, _source_file, _source_sha256, _source_row, _source_record"


def _inbox_file(settings: Settings) -> InboxFile:
    settings.ensure_dirs()
    path = settings.inbox / "boundaries" / "districts.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return InboxFile(path, "boundaries")


def _load(settings: Settings, item: InboxFile, load_id: str = "R1-0001") -> raw.FileOutcome:
    with duckdb.connect(str(settings.home / "w.duckdb")) as con:
        ensure_schema(con)
        return raw.load_file(con, settings, item, load_id, "R1", datetime(2026, 1, 1))


def _typed(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        f"select district_code, population, {LINEAGE} from accepted.boundaries order by all"
    ).fetchall()


def test_a_files_accepted_rows_arrive_typed_and_its_quarantined_rows_do_not(tmp_path):
    settings = Settings(home=tmp_path)
    outcome = _load(settings, _inbox_file(settings))
    assert (outcome.status, outcome.rows, outcome.quarantined) == ("loaded", 3, 1)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        typed = _typed(con)
        kinds = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'accepted' and table_name = 'boundaries'"
            ).fetchall()
        )
        as_sent = con.execute(
            f"select district_code, population, {LINEAGE} from raw.boundaries "
            "where district_code <> 'D2' order by all"
        ).fetchall()
        kept = con.execute("select population from raw.boundaries order by 1").fetchall()
    assert [row[:2] for row in typed] == [("D1", 100), ("D3", 1200)]
    assert [row[2:] for row in typed] == [row[2:] for row in as_sent]  # raw's lineage
    assert kinds["population"] == "BIGINT" and kinds["district_code"] == "VARCHAR"
    assert kept == [("1,200",), ("100",), ("many",)]  # raw keeps every value as sent


def test_an_upgraded_warehouse_gets_its_accepted_tables_filled_from_raw(tmp_path):
    """A warehouse built before the accepted tables: ensure_schema makes them and fills them
    with raw's accepted rows, parsed, exactly as the load would have written them."""
    settings = Settings(home=tmp_path)
    _load(settings, _inbox_file(settings))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        loaded = _typed(con)
        con.execute("drop schema accepted cascade")

        ensure_schema(con)

        assert _typed(con) == loaded
        ensure_schema(con)  # once: a warehouse that has them is left as it is
        assert _typed(con) == loaded

        # Parsed by other parse macros, or a column of another type: made again from raw.
        con.execute("update audit.accepted_parsed_by set parse_macros_sha256 = 'older'")
        con.execute("update accepted.boundaries set population = -1")
        ensure_schema(con)
        assert _typed(con) == loaded
        con.execute("alter table accepted.boundaries alter population type varchar")
        ensure_schema(con)
        assert _typed(con) == loaded


def test_a_load_that_fails_leaves_no_accepted_rows_and_loads_whole_next_time(tmp_path, monkeypatch):
    """Raw, quarantine, the accepted rows and the record of the file are one transaction: a load
    stopped after its accepted rows were written leaves none of them, and the next run loads
    the file (still in the inbox) once."""
    settings = Settings(home=tmp_path)
    item = _inbox_file(settings)
    written = raw.append_accepted

    def append_then_fail(*args):
        written(*args)
        raise OSError("the disk went away")

    monkeypatch.setattr(raw, "append_accepted", append_then_fail)
    with pytest.raises(OSError):
        _load(settings, item)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert con.execute("select count(*) from accepted.boundaries").fetchone()[0] == 0
        assert con.execute("select count(*) from raw.boundaries").fetchone()[0] == 0

    monkeypatch.setattr(raw, "append_accepted", written)
    assert _load(settings, item, "R2-0001").status == "loaded"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert [row[:3] for row in _typed(con)] == [("D1", 100, "R2-0001"), ("D3", 1200, "R2-0001")]
