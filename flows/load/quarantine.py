"""Quarantine: the contract's row rules, and recording each staged row that breaks one in
audit.quarantine. The rows still go to raw (append-only, as sent); the others go, typed, to the
source's accepted table too (flows/load/accepted.py). `ACCEPTED` is the join that leaves
quarantined rows out of raw, for the quality gate and for filling the accepted tables of a
warehouse built before them.
"""

from __future__ import annotations

import duckdb

from flows.sources.contracts import PARSERS, Source


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# A raw table's rows less those quarantine set aside, as a join after `from raw.<source> as
# <alias>`: the rows `accepted.<source>` holds, typed. An anti join: `not exists`
# made DuckDB group every row's key before joining. A quarantine row names the file's row it
# holds back by its record. A load's rows and its quarantine rows all have records, or (loaded
# before records were kept) none: then null meets null and the line is held back, as it was.
# `is not distinct from` keeps a hash join; `q.source_record is null or ...` made it a nested
# loop over raw rows times quarantine rows (2 million by 5,000: 0.12 -> 12.7 s).
ACCEPTED = (
    "anti join audit.quarantine as q "
    "on q.load_id = {alias}._load_id and q.source_row = {alias}._source_row "
    "and q.source_record is not distinct from {alias}._source_record"
)


def quarantine_checks(source: Source) -> list[tuple[str, str, str]]:
    """(rule, column, SQL that holds for a breaking row), for every rule of the contract."""
    checks = []
    for c in source.columns:
        value = f'"{c.name}"'
        if c.required:
            checks.append(("required value missing", c.name, f"{value} is null"))
        if PARSERS[c.type]:
            checks.append(
                (f"not a {c.type}", c.name, f"{value} is not null and {c.parsed()} is null")
            )
        if c.pattern:
            checks.append(
                (
                    f"does not match {c.pattern}",
                    c.name,
                    f"not regexp_full_match({value}, {literal(c.pattern)})",
                )
            )
        if c.allowed:
            allowed = ", ".join(literal(v) for v in c.allowed)
            checks.append(("not an allowed value", c.name, f"{value} not in ({allowed})"))
        if c.min is not None:
            checks.append((f"below the minimum {c.min:g}", c.name, f"{c.parsed()} < {c.min}"))
        if c.max is not None:
            checks.append((f"above the maximum {c.max:g}", c.name, f"{c.parsed()} > {c.max}"))
    for rule in source.row_rules:
        checks.append((rule.name, rule.column, rule.violation))
    for lookup in source.lookups:
        known = f'select "{lookup.other_column}" from accepted.{lookup.source}'
        checks.append(
            (
                f"unknown {lookup.column}: not in {lookup.source}",
                lookup.column,
                f'"{lookup.column}" not in ({known})',
            )
        )
    key = ", ".join(f'"{k}"' for k in source.key)
    checks.append(
        (
            f"duplicate key ({', '.join(source.key)}) in the file",
            source.key[-1],
            f"_source_record in (select _source_record from incoming "
            f"qualify row_number() over (partition by {key} order by _source_record) > 1)",
        )
    )
    return checks


def quarantine(
    con: duckdb.DuckDBPyConnection, source: Source, *, load_id: str, run_id: str, source_file: str
) -> int:
    """Record every row of temp table `incoming` that breaks a rule in audit.quarantine, in one
    pass over the rows (one statement per rule cost ~18 scans a file); returns how many rows.

    The rows still go to raw (append-only, as sent); the accepted table leaves them out.
    """
    checks = quarantine_checks(source)
    broken = ",\n".join(
        f"case when coalesce(({violation}), false) then {{'rule': {literal(rule)}, "
        f"'column_name': {literal(column)}, 'value': cast(\"{column}\" as varchar)}} end"
        for rule, column, violation in checks
    )
    # The list of what a row breaks is made only for rows that break something: made for every
    # row, it cost more than the checks themselves (docs/performance.md).
    breaks_any = " or ".join(f"coalesce(({violation}), false)" for _, _, violation in checks)
    con.execute(
        f"""insert into audit.quarantine by name
            select $run as run_id, $load as load_id, $source as source, $file as source_file,
                   _source_row as source_row, b.column_name, b.value, b.rule,
                   current_timestamp as quarantined_at, _source_record as source_record
            from (select _source_row, _source_record, unnest([{broken}]) as b
                  from incoming where {breaks_any})
            where b is not null
            order by _source_record""",
        {"run": run_id, "load": load_id, "source": source.name, "file": source_file},
    )
    return con.execute(
        "select count(distinct source_record) from audit.quarantine where load_id = ?", [load_id]
    ).fetchone()[0]
