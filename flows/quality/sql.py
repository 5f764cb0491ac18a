"""Great Expectations expectations run as SQL where the rows live: a suite becomes one aggregate
query over a DuckDB relation, and each expectation's result comes back in the shape GX's own
validators give (`success` and a `result` dict: counts, percentages, the first unexpected
values and the rows that hold them), so the gate records it and GX renders it as Data Docs.

Only the expectation types the suites use are here (`CONDITIONS` and `AGGREGATES`); another
type is refused by name. tests/test_quality_sql.py runs every one of them beside GX's pandas
validators on the same rows and asserts the same verdicts, counts and samples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import duckdb

# Unexpected rows named in a result, as GX's SUMMARY format does with partial_unexpected_count.
SAMPLE_ROWS = 5


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value) -> str:
    """A JSON value from a suite as SQL."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _between(kwargs: dict) -> str:
    column = quoted(kwargs["column"])
    below = "<=" if kwargs.get("strict_min") else "<"
    above = ">=" if kwargs.get("strict_max") else ">"
    outside = [
        f"{column} {op} {literal(kwargs[bound])}"
        for bound, op in (("min_value", below), ("max_value", above))
        if kwargs.get(bound) is not None
    ]
    return f"{column} is not null and ({' or '.join(outside) or 'false'})"


def _in_set(kwargs: dict) -> str:
    column = quoted(kwargs["column"])
    values = ", ".join(literal(v) for v in kwargs["value_set"])
    return f"{column} is not null and {column} not in ({values})"


def _regex(kwargs: dict) -> str:
    # GX's pandas validator searches (re.search); DuckDB's regexp_matches does the same.
    column, pattern = quoted(kwargs["column"]), literal(kwargs["regex"])
    return f"{column} is not null and not regexp_matches({column}::varchar, {pattern})"


def _pair(kwargs: dict) -> str:
    # Rows where both are missing are ignored (GX's default); one missing is unexpected.
    a, b = quoted(kwargs["column_A"]), quoted(kwargs["column_B"])
    op = ">=" if kwargs.get("or_equal") else ">"
    return f"not ({a} is null and {b} is null) and not coalesce({a} {op} {b}, false)"


def _repeated(columns: list[str]) -> str:
    """A row whose value(s) another row shares: a count over a window, ignoring rows where
    every value is missing (GX's default for uniqueness)."""
    names = ", ".join(quoted(c) for c in columns)
    present = " or ".join(f"{quoted(c)} is not null" for c in columns)
    return f"({present}) and count(*) over (partition by {names}) > 1"


# Map expectations: the SQL that holds for an unexpected row (it may use window functions: the
# conditions are computed row by row before the one aggregate pass).
CONDITIONS: dict[str, Callable[[dict], str]] = {
    "expect_column_values_to_not_be_null": lambda k: f"{quoted(k['column'])} is null",
    "expect_column_values_to_be_null": lambda k: f"{quoted(k['column'])} is not null",
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair,
    "expect_column_values_to_be_unique": lambda k: _repeated([k["column"]]),
    "expect_compound_columns_to_be_unique": lambda k: _repeated(k["column_list"]),
}


# Map expectations that count missing values apart: a row whose column (or every column) is
# missing is neither expected nor unexpected, and percentages are of the rows present.
_NULLS_APART = set(CONDITIONS) - {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
}


# Table and column expectations measured once: (the SQL of the observed value, the verdict).
AGGREGATES = {"expect_table_row_count_to_be_between", "expect_column_values_to_be_in_type_list"}


def _columns(expectation: dict) -> list[str]:
    """The columns an expectation is about, as GX lists them in an unexpected row."""
    kwargs = expectation["kwargs"]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return [kwargs["column"]] if "column" in kwargs else []


def compile_suite(expectations: list[dict], identify_by: list[str]) -> str:
    """One query over a relation called `checked`: a row count, and per map expectation its
    unexpected count, missing count and the first SAMPLE_ROWS unexpected rows (ordered by
    `identify_by`, or by the expectation's own columns)."""
    flags, measures = [], ["count(*) as n"]
    for i, expectation in enumerate(expectations):
        kind = expectation["type"]
        if kind in AGGREGATES:
            continue
        if kind not in CONDITIONS:
            raise ValueError(f"{kind} has no SQL form in flows/quality/sql.py: add it there")
        flags.append(f"coalesce(({CONDITIONS[kind](expectation['kwargs'])}), false) as _x{i}")
        shown = list(dict.fromkeys(_columns(expectation) + list(identify_by)))
        row = ", ".join(f"{literal(c)}: {quoted(c)}" for c in shown)
        order = ", ".join(f"{literal(c)}: {quoted(c)}" for c in (identify_by or shown))
        measures.append(f"count(*) filter (where _x{i}) as u{i}")
        if kind in _NULLS_APART:
            present = " or ".join(f"{quoted(c)} is not null" for c in _columns(expectation))
            measures.append(f"count(*) filter (where {present}) as p{i}")
        measures.append(
            f"min_by({{{row}}}, {{{order}}}, {SAMPLE_ROWS}) filter (where _x{i}) as s{i}"
        )
    flagged = ", ".join(["*", *flags])
    return f"select {', '.join(measures)} from (select {flagged} from checked)"


def _type_name(relation: duckdb.DuckDBPyRelation, column: str) -> str:
    return str(dict(zip(relation.columns, relation.types, strict=True))[column])


def _aggregate(expectation: dict, relation, rows: int) -> tuple[bool, dict]:
    kwargs = expectation["kwargs"]
    if expectation["type"] == "expect_table_row_count_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        ok = (low is None or rows >= low) and (high is None or rows <= high)
        return ok, {"observed_value": rows}
    observed = _type_name(relation, kwargs["column"])
    return observed in kwargs["type_list"], {"observed_value": observed}


def _map_result(
    expectation: dict, values: dict, i: int, rows: int, identify_by: list[str]
) -> tuple[bool, dict]:
    unexpected, sample = values[f"u{i}"], values[f"s{i}"] or []
    columns = _columns(expectation)
    present = values.get(f"p{i}", rows)
    nulls_apart = expectation["type"] in _NULLS_APART
    base = present if nulls_apart else rows
    percent = 100 * unexpected / base if base else 0.0
    mostly = expectation["kwargs"].get("mostly", 1)
    shown = [
        row[columns[0]] if len(columns) == 1 else {c: row[c] for c in columns} for row in sample
    ]
    result = {
        "element_count": rows,
        "unexpected_count": unexpected,
        "unexpected_percent": percent,
        "partial_unexpected_list": shown,
        "partial_unexpected_counts": [
            {"value": value, "count": count}
            for value, count in Counter(_hashable(v) for v in shown).most_common()
        ],
        "partial_unexpected_index_list": sample,
    }
    if identify_by:
        result["unexpected_index_column_names"] = identify_by
    if nulls_apart:
        result |= {
            "missing_count": rows - present,
            "missing_percent": 100 * (rows - present) / rows if rows else 0.0,
            "unexpected_percent_total": 100 * unexpected / rows if rows else 0.0,
            "unexpected_percent_nonmissing": percent,
        }
    ok = unexpected == 0 or (mostly < 1 and base and unexpected / base <= 1 - mostly)
    return bool(ok), result


def _hashable(value):
    return tuple(value.values()) if isinstance(value, dict) else value


def run_suite(
    relation: duckdb.DuckDBPyRelation, expectations: list[dict], identify_by: list[str]
) -> tuple[int, list[tuple[bool, dict]]]:
    """The relation's row count and, per expectation in order, (success, result)."""
    query = compile_suite(expectations, identify_by)
    cursor = relation.query("checked", query)
    values = dict(zip(cursor.columns, cursor.fetchone(), strict=True))
    rows = values["n"]
    return rows, [
        _aggregate(e, relation, rows)
        if e["type"] in AGGREGATES
        else _map_result(e, values, i, rows, identify_by)
        for i, e in enumerate(expectations)
    ]
