"""The scope in SQL: which of a warehouse file's relations a reader short of everything sees, and
which of their rows (SCOPED_BY), in a DuckDB connection that has the file attached as `unscoped`
and an in-memory catalogue `warehouse` to fill (dashboard/warehouse.py holds such connections).

Each relation a reader may read becomes a view in `warehouse`, cut by a WHERE on its bid,
benefit, county, organisation or file column against the scope's own tables: the organisations
granted (`warehouse.scope.granted`, filled by a parameterised insert, never written into SQL),
and the counties, organisation names, bids, benefits and files they reach, which follow from the
warehouse's own marts (marts.dim_organisations, marts.fct_file_counties). A relation SCOPED_BY
does not name is not there at all, whatever a page asks for.
"""

from __future__ import annotations

import duckdb

from flows.security import roles
from flows.sources.contracts import SOURCES

UNSCOPED = "unscoped"  # the file itself, in a connection cut to a scope: no page names it
WHOLE, OPERATIONS, OUTCOMES = "whole", "operations", "outcomes"
# How a session short of everything reads each relation: shown whole (published statistics,
# reference tables, the method, the runs that published), shown with operations only, shown as
# the checks' outcomes only (OUTCOMES: which check passed, never the values it saw, which may be
# other areas' rows), or cut to the scope's rows by a column: (what the column holds, the column).
SCOPED_BY: dict[str, str | tuple[str, str]] = {
    "marts.dim_areas": ("county", "county"),
    "marts.dim_benefits": ("bid", "bid_id"),
    "marts.dim_bids": ("county", "county"),
    "marts.dim_district_lookups": WHOLE,
    "marts.dim_fire_stations": WHOLE,
    "marts.dim_method_parameters": WHOLE,
    "marts.dim_months": WHOLE,
    "marts.dim_organisations": WHOLE,
    "marts.fct_ambulance_response_monthly": WHOLE,
    "marts.fct_area_coterminosity": WHOLE,
    "marts.fct_benefit_attribution": ("bid", "bid_id"),
    "marts.fct_benefit_cash_flows": ("bid", "bid_id"),
    "marts.fct_benefit_counterfactual": ("bid", "bid_id"),
    "marts.fct_benefit_realisation": ("bid", "bid_id"),
    "marts.fct_bid_cash_flows": ("bid", "bid_id"),
    "marts.fct_bid_overview": ("bid", "bid_id"),
    "marts.fct_bid_sensitivity": ("bid", "bid_id"),
    "marts.fct_bid_value": ("bid", "bid_id"),
    "marts.fct_cost_per_incident": ("organisation", "organisation"),
    "marts.fct_coterminosity": WHOLE,
    "marts.fct_coterminosity_pairs": WHOLE,
    "marts.fct_estate_sites_yearly": ("county", "county"),
    "marts.fct_file_counties": ("county", "county"),
    "marts.fct_fire_response_yearly": WHOLE,
    "marts.fct_measure_attribution": ("county", "measure_county"),
    "marts.fct_police_workforce": WHOLE,
    "marts.fct_response_times_monthly": ("county", "county"),
    "marts.fct_staffing_monthly": ("organisation", "organisation"),
    "intermediate.int_benefit_units": ("benefit", "benefit_id"),
    "reference.gdp_deflators": WHOLE,
    "reference.optimism_bias_defaults": WHOLE,
    "reference.response_standards": WHOLE,
    "audit.load_runs": WHOLE,
    "audit.mart_readiness": WHOLE,
    "audit.loaded_files": ("file", "sha256"),  # published statistics' and the scope's files
    "audit.quality_results": OUTCOMES,
    "audit.quarantine": OPERATIONS,
    "audit.rejected_files": OPERATIONS,
    "audit.source_freshness": OPERATIONS,
}
# What each kind of column is checked against: tables of the scope, made from the grant.
IN_SCOPE = {
    "county": "select county from warehouse.scope.counties",
    "organisation": "select organisation_name from warehouse.scope.organisations",
    "bid": "select bid_id from warehouse.scope.bids",
    "benefit": "select benefit_id from warehouse.scope.benefits",
    "file": "select sha256 from warehouse.scope.files",
}
# audit.quality_results as OUTCOMES shows it: what was checked and whether it passed.
CHECK_OUTCOMES = (
    "run_id, suite, expectation, column_name, level, success, "
    "null::varchar as observed_value, null::bigint as unexpected_count, "
    "null::varchar as unexpected_sample, checked_at"
)
# The counties the organisations granted serve, every organisation serving them, and their bids
# and benefits (marts.dim_organisations is where an organisation's counties are settled).
SCOPE_TABLES = (
    f"""create table warehouse.scope.counties as
        select distinct county from {UNSCOPED}.marts.dim_organisations
        where organisation_code in (select organisation_code from warehouse.scope.granted)""",
    f"""create table warehouse.scope.organisations as
        select distinct organisation_name from {UNSCOPED}.marts.dim_organisations
        where county in (select county from warehouse.scope.counties)""",
    f"""create table warehouse.scope.bids as
        select bid_id from {UNSCOPED}.marts.dim_bids
        where county in (select county from warehouse.scope.counties)""",
    f"""create table warehouse.scope.benefits as
        select benefit_id from {UNSCOPED}.marts.dim_benefits
        where bid_id in (select bid_id from warehouse.scope.bids)""",
)
PUBLISHED_SOURCES = sorted(name for name, source in SOURCES.items() if source.kind == "published")


def cut_to(con: duckdb.DuckDBPyConnection, within: roles.Scope) -> None:
    """Fill the in-memory `warehouse` with a view over each relation of SCOPED_BY the file
    holds, cut to the rows `within` reaches. A version that lists no organisations
    (marts.dim_organisations) grants none."""
    present = _relations(con)
    organisations = "marts.dim_organisations" in present and within.organisations or ()
    con.execute("create schema warehouse.scope")
    con.execute("create table warehouse.scope.granted (organisation_code varchar)")
    con.execute("insert into warehouse.scope.granted select unnest(?)", [sorted(organisations)])
    con.execute("create table warehouse.scope.sources (source varchar)")
    con.execute("insert into warehouse.scope.sources select unnest(?)", [PUBLISHED_SOURCES])
    for statement in SCOPE_TABLES if organisations else _EMPTY_SCOPE_TABLES:
        con.execute(statement)
    con.execute(_files_in_scope(present))
    for relation, rule in SCOPED_BY.items():
        if relation in present and (rule != OPERATIONS or within.operations):
            schema, name = relation.split(".")
            shown = CHECK_OUTCOMES if rule == OUTCOMES and not within.operations else "*"
            con.execute(f"create schema if not exists warehouse.{schema}")
            con.execute(
                f'create view warehouse.{schema}."{name}" as select {shown} from '
                f'{UNSCOPED}.{schema}."{name}"{_cut(rule, within)}'
            )


def _files_in_scope(present: set[str]) -> str:
    """The statement that lists the files a scope reaches: every published statistic's, and the
    agency files whose rows in force concern the scope's counties (marts.fct_file_counties)."""
    published = (
        f"select sha256 from {UNSCOPED}.audit.loaded_files "
        "where source in (select source from warehouse.scope.sources)"
        if "audit.loaded_files" in present
        else "select null::varchar as sha256 where false"
    )
    agency = (
        f" union select sha256 from {UNSCOPED}.marts.fct_file_counties "
        "where county in (select county from warehouse.scope.counties)"
        if "marts.fct_file_counties" in present
        else ""
    )
    return f"create table warehouse.scope.files as {published}{agency}"


_EMPTY_SCOPE_TABLES = (
    "create table warehouse.scope.counties (county varchar)",
    "create table warehouse.scope.organisations (organisation_name varchar)",
    "create table warehouse.scope.bids (bid_id varchar)",
    "create table warehouse.scope.benefits (benefit_id varchar)",
)


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """`schema.name` of every table and view the attached file holds."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ?",
        [UNSCOPED],
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def _cut(rule: str | tuple[str, str], within: roles.Scope) -> str:
    """The WHERE clause that cuts a relation read by `rule` to `within` (none: shown whole)."""
    if rule in (WHOLE, OPERATIONS, OUTCOMES) or (rule[0] == "file" and within.operations):
        return ""
    kind, column = rule
    return f' where "{column}" in ({IN_SCOPE[kind]})'
