"""Judge a file against its contract without loading it (`bluelight validate FILE`).

The file goes through the very steps a night's load runs (flows/load/stage.py `stage` and
flows/load/quarantine.py `quarantine`, under the same file limits) in a DuckDB database held in
memory, so the verdict is the load's: `load`, `load with rows quarantined`, or `reject` (any
failure to load the file is a `reject`, as at night). A rule that looks a value up in another
source (an incident's district in the boundaries) reads that source's accepted rows, parsed
again here from copies of the published warehouse's raw and quarantine rows (opened read-only:
the file, or the lake pinned to a published snapshot, flows/warehouse/backend.py). Nothing is
written to the data directory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.load.inbox import already_loaded, sha256_of
from flows.load.quarantine import literal, quarantine
from flows.load.raw import load_failed
from flows.load.stage import stage
from flows.settings import Settings
from flows.sources.contracts import SOURCES, Source
from flows.sources.errors import ContractError
from flows.warehouse import backend
from flows.warehouse.backend import LakeVersion
from flows.warehouse.schema import ensure_schema

# The published warehouse a file is judged against: a warehouse file, or a published version of
# the lake (`backend.published`); None, or a file not there, when nothing is published.
Warehouse = Path | LakeVersion | None

LOAD, QUARANTINE, REJECT = "load", "load with rows quarantined", "reject"


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    rule: str
    value: str | None = None

    def describe(self) -> str:
        where = ", ".join(
            p for p in (f"row {self.row}" if self.row else "", self.column or "") if p
        )
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where + ': ' if where else ''}{self.rule}{value}"


@dataclass
class Verdict:
    file: str
    source: str | None
    verdict: str
    rows: int = 0
    quarantined_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    loaded_as: str | None = None  # the load that already holds these bytes, if any

    def report(self) -> str:
        counts = f"{self.rows:,} row(s)" + (
            f", {self.quarantined_rows:,} set aside" if self.verdict == QUARANTINE else ""
        )
        lines = [f"{self.file} ({self.source or 'no source'}): {self.verdict}; {counts}"]
        lines += [f"  {self.file}: {p.describe()}" for p in self.problems]
        if self.loaded_as:
            lines.append(f"  already loaded as {self.loaded_as}: a night would skip these bytes")
        return "\n".join(lines)


def source_of(path: Path, name: str | None) -> Source:
    """The source named, or the one whose inbox folder holds the file."""
    if name:
        if name not in SOURCES:
            raise ContractError(str(path), f"no source {name!r}: `bluelight sources`")
        return SOURCES[name]
    source = SOURCES.get(path.parent.name)
    if source is None:
        raise ContractError(
            path.name,
            f"no source owns the folder {path.parent.name!r}: say which with --source NAME "
            "(`bluelight sources` lists them)",
        )
    return source


def _present(warehouse: Warehouse) -> bool:
    return isinstance(warehouse, LakeVersion) or warehouse is not None and warehouse.exists()


def _reference(
    con: duckdb.DuckDBPyConnection, source: Source, warehouse: Warehouse, settings: Settings
) -> None:
    """Copy raw and quarantine of the sources the source's lookups name from the published
    warehouse into `con` (nothing when there is none yet): `ensure_schema` then parses their
    accepted rows into the accepted tables the lookups read."""
    con.execute("create schema raw; create schema audit")
    if not _present(warehouse) or not source.lookups:
        return
    backend.attach_version(con, settings, warehouse, "published")
    names = sorted({lookup.source for lookup in source.lookups})
    for name in names:
        con.execute(f"create table raw.{name} as select * from published.raw.{name}")
    listed = ", ".join(literal(n) for n in names)
    con.execute(
        "create table audit.quarantine as select * from published.audit.quarantine "
        f"where source in ({listed})"
    )
    con.execute("detach published")


def _already_loaded(warehouse: Warehouse, sha256: str, settings: Settings) -> str | None:
    if not _present(warehouse):
        return None
    with backend.open_version(settings, warehouse) as con:
        return already_loaded(con, sha256)


def validate(
    path: Path,
    source_name: str | None = None,
    warehouse: Warehouse = None,
    settings: Settings | None = None,
) -> Verdict:
    """The verdict a night's load would give `path`, against the `warehouse` published now,
    under the file limits of `settings` (the environment's when not given)."""
    settings = settings or Settings.from_env()
    name = f"{path.parent.name}/{path.name}" if path.parent.name in SOURCES else path.name
    try:
        source = source_of(path, source_name)
    except ContractError as error:
        return Verdict(name, None, REJECT, problems=[Problem(None, None, error.reason)])
    loaded_as = _already_loaded(warehouse, sha256_of(path), settings)
    try:
        rows, held, problems = _judge(path, source, name, warehouse, settings)
    except OSError:
        raise  # as the load: reading failed, not the file
    except Exception as exc:  # as the load: any other failure refuses the file
        error = (
            exc
            if isinstance(exc, ContractError)
            else load_failed(name, exc, settings.file_memory_limit)
        )
        problem = Problem(error.row, error.column, error.reason)
        return Verdict(name, source.name, REJECT, problems=[problem], loaded_as=loaded_as)
    verdict = QUARANTINE if held else LOAD
    return Verdict(name, source.name, verdict, rows, held, problems, loaded_as)


def _judge(
    path: Path, source: Source, name: str, warehouse: Warehouse, settings: Settings
) -> tuple[int, int, list[Problem]]:
    """Stage and quarantine the file as the load does, in a database held in memory under the
    file memory limit: its rows, the rows set aside and their problems."""
    with tempfile.TemporaryDirectory() as spill:
        config = {"temp_directory": spill, "memory_limit": settings.file_memory_limit}
        with backend.connect_with(warehouse, config) as con:
            _reference(con, source, warehouse, settings)
            ensure_schema(con)
            rows = stage(con, path, source, name, settings.file_limits)
            held = quarantine(con, source, load_id="validate", run_id="validate", source_file=name)
            problems = [
                Problem(*row)
                for row in con.execute(
                    "select source_row, column_name, rule, value from audit.quarantine "
                    "where load_id = 'validate' order by source_record, rule"
                ).fetchall()
            ]
    return rows, held, problems
