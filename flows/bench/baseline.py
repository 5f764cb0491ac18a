"""The plain-DuckDB baseline `bluelight bench` measures the pipeline against, in three parts that
match its stages: **read** the incident and boundary files into tables (ingest), **check** them
against their contracts (the quality gate), **model** the headline monthly response mart (dbt).

`python -m flows.bench.baseline INBOX DB` runs the parts one after another in one DuckDB process
and prints each part's seconds as JSON on its last line. The check is written from the contracts
(`flows.sources.contracts`), so it asks what the gate asks: nulls in required columns, values
outside an allowed set, pattern mismatches, numbers out of range, values that do not parse, and
duplicate keys; one aggregate pass per table, a count per rule.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb

from flows.load.quarantine import literal
from flows.sources.contracts import SOURCES, Column, Source
from flows.warehouse.schema import PARSE_MACROS

# The sources the baseline reads and checks: the incidents (all but a few thousand of a tier's
# rows) and the boundaries the mart joins them to.
CHECKED = ("boundaries", "incidents")

READ_SQL = """
create table boundaries as select * from read_csv({boundaries}, all_varchar=true);
create table incidents as
    select * from read_csv({incidents}, all_varchar=true, union_by_name=true);
"""

# The headline mart: incidents, mean, median and 90th percentile response per service, county
# and month.
MODEL_SQL = """
create table response_monthly as
    select i.service, b.county, date_trunc('month', i.call_time::timestamp) as month,
           count(*) as incidents,
           avg(epoch(i.first_arrival_time::timestamp - i.call_time::timestamp)) / 60 as mean_min,
           quantile_cont(epoch(i.first_arrival_time::timestamp - i.call_time::timestamp), 0.5)
               / 60 as median_min,
           quantile_cont(epoch(i.first_arrival_time::timestamp - i.call_time::timestamp), 0.9)
               / 60 as p90_min
    from incidents as i join boundaries as b using (district_code)
    group by all;
"""


def read_sql(inbox) -> str:
    """READ_SQL on the files of this inbox."""
    return READ_SQL.format(
        boundaries=literal(f"{inbox}/boundaries/*.csv"),
        incidents=literal(f"{inbox}/incidents/*.csv"),
    )


def column_rules(column: Column) -> list[tuple[str, str]]:
    """(rule, SQL true where a row breaks it) for each of the column's contract rules. Values
    parse with the warehouse's own macros (`Column.parsed`), as the pipeline parses them."""
    name, parsed = f'"{column.name}"', column.parsed()
    rules = []
    if column.required:
        rules.append(("missing", f"{name} is null"))
    if column.allowed:
        rules.append(("not allowed", f"{name} not in ({', '.join(map(literal, column.allowed))})"))
    if column.pattern:
        rules.append(("pattern", f"not regexp_full_match({name}, {literal(column.pattern)})"))
    if column.type != "varchar":
        rules.append((f"not parsed as {column.type}", f"{name} is not null and {parsed} is null"))
    if column.min is not None:
        rules.append(("below minimum", f"{parsed} < {column.min}"))
    if column.max is not None:
        rules.append(("above maximum", f"{parsed} > {column.max}"))
    return [(f"{column.name}: {rule}", condition) for rule, condition in rules]


def check_sql(source: Source) -> str:
    """One aggregate pass over the source's table: the rows breaking each rule, and how many rows
    repeat a key."""
    counts = [
        f'count(*) filter (where {condition}) as "{rule}"'
        for column in source.columns
        for rule, condition in column_rules(column)
    ]
    key = ", ".join(f'"{k}"' for k in source.key)
    key = f"({key})" if len(source.key) > 1 else key  # a struct: one distinct value per key
    counts.append(f'count(*) - count(distinct {key}) as "key ({", ".join(source.key)}): repeated"')
    return f"select {', '.join(counts)} from {source.name}"


def check(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every checked source's rule counts, by rule."""
    broken = {}
    for name in CHECKED:
        relation = con.sql(check_sql(SOURCES[name]))
        broken.update(zip(relation.columns, relation.fetchone(), strict=True))
    return broken


def run(inbox: str, db: str) -> dict[str, float]:
    """Each part's seconds, run in order on one connection."""
    con = duckdb.connect(db)
    con.execute("create schema raw;" + PARSE_MACROS)  # the macros: set-up, not timed
    parts = {
        "read": lambda: con.execute(read_sql(inbox)),
        "check": lambda: check(con),
        "model": lambda: con.execute(MODEL_SQL),
    }
    seconds = {}
    for part, work in parts.items():
        start = time.perf_counter()
        work()
        seconds[part] = time.perf_counter() - start
    con.close()
    return seconds


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2])))
