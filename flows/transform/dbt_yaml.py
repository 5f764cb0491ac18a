"""Writes dbt's `_sources.yml` and `_staging.yml` from the source contracts, and the doc blocks
(`_contract_docs.md`) that hold each contract column's description once.

The contracts are the one place a source's columns are declared; these files follow from them
(`bluelight sources --write`), and a test fails when the committed files have drifted. The source,
staging, intermediate and mart YAML reference a column's block (`{{ doc('incidents__service') }}`)
rather than copy its text; dbt renders the reference, so the persisted column comments carry the
text itself.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from flows.load import accepted
from flows.settings import PROJECT_ROOT
from flows.sources.contracts import SOURCES, Source

STAGING_DIR = PROJECT_ROOT / "dbt_project" / "models" / "staging"
DOCS_FILE = STAGING_DIR / "_contract_docs.md"
HEADER = (
    "# Written by `bluelight sources --write` from flows/sources/contracts.py: "
    "edit the contracts.\n"
)

LINEAGE_DOCS = {
    "_load_id": "Load that brought the row (audit.loaded_files.load_id).",
    "_loaded_at": "When the row was loaded.",
    "_source_file": "Archived file the row came from (named by its sha256).",
    "_source_sha256": "sha256 of the file the row came from.",
    "_source_row": "Row number in that file; the header is row 1.",
    "_source_record": "A number for the row, unique in that file, in file order: tells apart the "
    "rows one line gives, as a published table's figure per sheet, date or measure. Empty for "
    "rows loaded before it was kept.",
}
# Staging renames (timestamps end in _at) and columns it derives, per source.
RENAMES = {
    "incidents": {
        "call_time": "call_at",
        "mobilised_time": "mobilised_at",
        "mobile_time": "mobile_at",
        "first_arrival_time": "first_arrival_at",
    },
    "staffing": {"shared_post": "is_shared_post"},
}
DERIVED = {
    "incidents": {
        "call_month": ("First day of the month of the call.", True),
        "response_seconds": ("Seconds from call to first arrival.", True),
        "call_handling_seconds": ("Seconds from call to first resource mobilised.", True),
        "turnout_seconds": ("Seconds from mobilised to the appliance leaving (fire only).", False),
        "drive_seconds": ("Seconds from leaving to first arrival (fire only).", False),
    },
}
# Lineage columns staging keeps (the load time dates each version in the register history).
STAGING_LINEAGE = ("_load_id", "_loaded_at", "_source_file", "_source_sha256", "_source_row")


def doc_name(source: str, column: str) -> str:
    """The doc block of a source's column, a contract's or one staging derives: named by the
    contract's name for it, also where staging renames the column."""
    return f"{source}__{column}"


def lineage_doc_name(column: str) -> str:
    """The doc block of a lineage column: `_load_id`'s is `lineage__load_id`."""
    return f"lineage_{column}"


def doc(name: str) -> str:
    """A description that is the doc block `name`, as dbt renders it."""
    return f"{{{{ doc('{name}') }}}}"


def doc_blocks() -> dict[str, str]:
    """Every doc block's name and text, in the order the file holds them."""
    blocks = {}
    for source in SOURCES.values():
        for column in source.columns:
            blocks[doc_name(source.name, column.name)] = column.description
        for name, (description, _) in DERIVED.get(source.name, {}).items():
            blocks[doc_name(source.name, name)] = description
    for name, description in LINEAGE_DOCS.items():
        blocks[lineage_doc_name(name)] = description
    return blocks


def _column_tests(column, in_staging: bool) -> list:
    tests: list = []
    if column.required:
        tests.append("not_null")
    if column.allowed and in_staging:
        tests.append({"accepted_values": {"arguments": {"values": list(column.allowed)}}})
    return tests


KIND_DESCRIPTIONS = {
    "agency": "Extracts the services send, the rows quarantine accepted: a table per source "
    "contract, append-only, each value parsed to its type by the load.",
    "published": "National published statistics as their publishers release them, the rows "
    "quarantine accepted: a table per source contract, append-only, each value parsed to its "
    "type by the load.",
}
RAW_DESCRIPTION = (
    "Every row of every file loaded, quarantined or not, each value as sent (text): a table per "
    "source contract, append-only, kept for auditors. The accepted tables are parsed from it."
)


def _source_table(source: Source, typed: bool) -> dict:
    """A source table's YAML: the accepted table (`typed`, its columns' warehouse types) or raw
    (text as sent, the contract's type it must parse to)."""
    columns = [
        {
            "name": c.name,
            "description": f"{doc(doc_name(source.name, c.name))} "
            + (f"({c.sql_type})" if typed else f"(text as sent; a {c.type})"),
        }
        for c in source.columns
    ]
    columns += [{"name": n, "description": doc(lineage_doc_name(n))} for n in LINEAGE_DOCS]
    return {"name": source.name, "description": source.description, "columns": columns}


def sources_yaml() -> dict:
    """Staging's sources, the accepted tables (a group per kind of source, as the night's dbt
    selection names them: `source:agency.incidents+`), then raw and the quarantine."""
    groups = [
        {
            "name": kind,
            "schema": accepted.SCHEMA,
            "description": description,
            "tables": [_source_table(s, True) for s in SOURCES.values() if s.kind == kind],
        }
        for kind, description in KIND_DESCRIPTIONS.items()
    ]
    raw = {
        "name": "raw",
        "schema": "raw",
        "description": RAW_DESCRIPTION,
        "tables": [_source_table(s, False) for s in SOURCES.values()],
    }
    audit = {
        "name": "audit",
        "schema": "audit",
        "description": "What the load recorded; the accepted tables leave quarantined rows out.",
        "tables": [
            {
                "name": "quarantine",
                "description": "Rows that broke a rule of their contract, one row per rule broken.",
                "columns": [
                    {"name": "load_id", "description": "Load the row came in."},
                    {"name": "source_row", "description": "Row number in the file (header = 1)."},
                    {
                        "name": "source_record",
                        "description": "Which of the rows read from the file (raw's "
                        "_source_record); empty for rows quarantined before records were kept, "
                        "which hold back their whole line.",
                    },
                    {"name": "rule", "description": "The rule the row broke."},
                ],
            }
        ],
    }
    return {"version": 2, "sources": [*groups, raw, audit]}


def _staging_model(source: Source) -> dict:
    renames = RENAMES.get(source.name, {})
    columns = []
    for column in source.columns:
        entry = {
            "name": renames.get(column.name, column.name),
            "description": doc(doc_name(source.name, column.name)),
        }
        tests = _column_tests(column, in_staging=True)
        if tests:
            entry["data_tests"] = tests
        columns.append(entry)
    for name, (_, required) in DERIVED.get(source.name, {}).items():
        entry = {"name": name, "description": doc(doc_name(source.name, name))}
        if required:
            entry["data_tests"] = ["not_null"]
        columns.append(entry)
    for name in STAGING_LINEAGE:
        columns.append(
            {"name": name, "description": doc(lineage_doc_name(name)), "data_tests": ["not_null"]}
        )
    key = [renames.get(k, k) for k in source.key]
    return {
        "name": f"stg_{source.kind}__{source.name}",
        "description": f"{source.description} Typed; one row per {', '.join(key)} "
        "(the most recently loaded version).",
        "data_tests": [{"unique_combination": {"arguments": {"columns": key}}}],
        "columns": columns,
    }


def staging_yaml() -> dict:
    return {"version": 2, "models": [_staging_model(s) for s in SOURCES.values()]}


class _Dumper(yaml.SafeDumper):
    """Writes a description that starts with a doc reference in double quotes, as dbt's own
    documentation does: in single quotes, the reference's own quotes would be doubled."""


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = '"' if value.startswith("{{") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render(document: dict) -> str:
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)


def render_docs() -> str:
    blocks = [
        f"{{% docs {name} %}}\n{text}\n{{% enddocs %}}\n" for name, text in doc_blocks().items()
    ]
    return HEADER + "\n" + "\n".join(blocks)


def expected_files() -> dict[Path, str]:
    return {
        STAGING_DIR / "_sources.yml": render(sources_yaml()),
        STAGING_DIR / "_staging.yml": render(staging_yaml()),
        DOCS_FILE: render_docs(),
    }


def write() -> list[Path]:
    written = []
    for path, text in expected_files().items():
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
