"""The gate's SQL form of each expectation gives what Great Expectations' own validators give:
the same verdict, counts and unexpected rows, on rows built by hand to break each one."""

from __future__ import annotations

import math

import duckdb
import great_expectations as gx
import pandas as pd
import pytest
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from flows.quality import sql
from flows.quality.suites import mart_suites, source_suites

ROWS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6, 7],
        "code": ["F1", "F2", "X3", "F2", None, "F6", "F7"],
        "service": ["fire", "fire", "police", "fire", "ambulance", "coastguard", None],
        "x": [0.0, 3.0, 7.0, 3.0, None, 5.0, 1.0],
        "median": [2.0, 3.0, None, 4.0, None, 1.0, 1.0],
        "p90": [3.0, 2.0, 5.0, None, None, 1.0, 2.0],
        "note": [None, None, "late", None, None, None, None],
    }
)

EXPECTATIONS = [
    ("expect_column_values_to_not_be_null", {"column": "code"}),
    ("expect_column_values_to_be_null", {"column": "note"}),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": 1, "max_value": 5}),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": 1}),
    ("expect_column_values_to_be_in_set", {"column": "service", "value_set": ["fire", "police"]}),
    ("expect_column_values_to_match_regex", {"column": "code", "regex": "^F\\d+$"}),
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "p90", "column_B": "median", "or_equal": True},
    ),
    ("expect_column_values_to_be_unique", {"column": "code"}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["code", "service"]}),
    ("expect_table_row_count_to_be_between", {"min_value": 1, "max_value": 6}),
    ("expect_table_row_count_to_be_between", {"min_value": 1}),
]

COMPARED = ["element_count", "unexpected_count", "missing_count", "observed_value"]


def _by_gx(frame: pd.DataFrame, expectation: dict) -> tuple[bool, dict]:
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("hand")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    outcome = batch.validate(
        ExpectationConfiguration(**expectation).to_domain_obj(),
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": sql.SAMPLE_ROWS,
            "unexpected_index_column_names": ["id"],
        },
    )
    assert not outcome.exception_info.get("raised_exception"), outcome.exception_info
    return outcome.success, outcome.result


def _rows(result: dict) -> list:
    """The unexpected rows named, as comparable values (GX's NaN is SQL's null)."""

    def plain(value):
        if isinstance(value, float) and math.isnan(value):
            return None
        return int(value) if isinstance(value, float) and value.is_integer() else value

    return sorted(
        (
            tuple((k, plain(v)) for k, v in sorted(row.items()))
            for row in result.get("partial_unexpected_index_list", [])
        ),
        key=repr,
    )


@pytest.mark.parametrize(("kind", "kwargs"), EXPECTATIONS, ids=[e[0] for e in EXPECTATIONS])
def test_each_expectation_in_sql_gives_what_great_expectations_gives(kind, kwargs):
    expectation = {"type": kind, "kwargs": kwargs, "meta": {}}
    gx_success, gx_result = _by_gx(ROWS, expectation)
    with duckdb.connect() as con:
        count, [(success, result)] = sql.run_suite(con.from_df(ROWS), [expectation], ["id"])
    assert count == len(ROWS)
    assert success == gx_success
    for field in COMPARED:
        assert result.get(field) == gx_result.get(field), field
    assert _rows(result) == _rows(gx_result)
    if kind != "expect_table_row_count_to_be_between":
        assert not success, "each case is built to break its expectation"


def test_a_suite_is_one_query_and_its_results_keep_their_order():
    expectations = [{"type": kind, "kwargs": kwargs, "meta": {}} for kind, kwargs in EXPECTATIONS]
    with duckdb.connect() as con:
        count, measured = sql.run_suite(con.from_df(ROWS), expectations, ["id"])
        alone = [sql.run_suite(con.from_df(ROWS), [e], ["id"])[1][0] for e in expectations]
    assert count == 7
    assert measured == alone
    assert sql.compile_suite(expectations, ["id"]).count("select") == 2  # rows, then one pass


def test_the_type_check_reads_the_warehouse_type_of_the_parsed_column():
    expectation = {
        "type": "expect_column_values_to_be_in_type_list",
        "kwargs": {"column": "at", "type_list": ["TIMESTAMP"]},
        "meta": {},
    }
    with duckdb.connect() as con:
        parsed = con.sql("select timestamp '2016-04-01 08:15:00' as at")
        as_text = con.sql("select '2016-04-01 08:15:00' as at")
        [(ok, result)] = sql.run_suite(parsed, [expectation], [])[1]
        [(bad, found)] = sql.run_suite(as_text, [expectation], [])[1]
    assert ok and result["observed_value"] == "TIMESTAMP"
    assert not bad and found["observed_value"] == "VARCHAR"


@pytest.mark.parametrize(("mostly", "passes"), [(0.8, True), (0.9, False)])
def test_mostly_is_the_share_of_present_rows_that_must_meet_it(mostly, passes):
    """x holds 0, 3, 7, 3, missing, 5, 1: two of the six present values are outside 1 to 5."""
    kwargs = {"column": "x", "min_value": 1, "max_value": 5, "mostly": round(4 / 6 - 0.01, 2)}
    expectation = {"type": "expect_column_values_to_be_between", "kwargs": kwargs, "meta": {}}
    with duckdb.connect() as con:
        [(ok, _)] = sql.run_suite(con.from_df(ROWS), [expectation], ["id"])[1]
        assert ok and _by_gx(ROWS, expectation)[0]  # 4 of 6 present: 0.67
        expectation["kwargs"] = kwargs | {"mostly": mostly, "max_value": 7}  # one outside
        [(ok, _)] = sql.run_suite(con.from_df(ROWS), [expectation], ["id"])[1]
    assert ok is passes  # 5 of 6 present: 0.83
    assert _by_gx(ROWS, expectation)[0] is passes


def test_an_argument_with_no_sql_form_is_refused_not_ignored():
    for kind, kwargs, named in [
        ("expect_table_row_count_to_be_between", {"min_value": 1, "strict_min": True}, "strict"),
        ("expect_column_values_to_be_unique", {"column": "x", "ignore_row_if": "never"}, "ignore"),
        ("expect_column_values_to_be_between", {"column": "x"}, "needs min_value or max_value"),
    ]:
        with pytest.raises(ValueError, match=named):
            sql.compile_suite([{"type": kind, "kwargs": kwargs}], [])


def test_every_expectation_the_suites_use_has_a_sql_form():
    used = {
        e["type"]
        for suite in [*source_suites().values(), *mart_suites()]
        for e in suite["expectations"]
    }
    assert used <= set(sql.CONDITIONS) | sql.AGGREGATES | sql.UNIQUENESS
    with pytest.raises(ValueError, match="expect_column_mean_to_be_between has no SQL form"):
        sql.compile_suite([{"type": "expect_column_mean_to_be_between", "kwargs": {}}], [])
