"""docs/auditors.md: every SQL block in the guide runs as written on the demo warehouse, and each
that reproduces a dashboard figure returns the figure the dashboard shows; the snippets that open
the warehouse find it where the settings put it; the guide describes every schema and audit
column the warehouse has.

How a SQL block is checked is said by an HTML comment on the line before it (unseen when the
guide is read):

    <!-- check: runs -->           runs as written in a session started in the data directory
                                    and returns rows (unless its first line is `-- (no rows
                                    when ...`); every `matches` or `unchanged` column is true
    <!-- check: FIGURE -->         the same, and its rows are FIGURE's rows as the dashboard
                                    shows them (FIGURES below): the same keys, no row more or
                                    fewer, the same values
    <!-- illustrative: REASON -->  not run, for the reason given

A block with no such comment, or naming a figure FIGURES does not have, fails; so does a figure
of FIGURES that no block reproduces.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import settings_for

from dashboard.queries import bid, overview, response_times
from flows.settings import PROJECT_ROOT, Settings
from flows.warehouse import publish

GUIDE = (PROJECT_ROOT / "docs" / "auditors.md").read_text(encoding="utf-8")
BLOCK = re.compile(
    r"(?:^<!-- (check|illustrative): (.*?) -->\n)?^```sql\n(.*?)^```", re.MULTILINE | re.DOTALL
)
BLOCKS = BLOCK.findall(GUIDE)  # (kind, what, sql) of every SQL block, in order
RUNS = "runs"
MAY_BE_EMPTY = "-- (no rows when"  # the first line of a query that may find nothing
COMPARES_VERSIONS = "attach 'warehouse/bluelight.duckdb' as now"
MONEY = ("cashable", "non_cashable")


# ---------------------------------------------------------------- what the dashboard shows


@dataclass(frozen=True)
class Figure:
    """A figure the guide reproduces: the columns that name a row, the columns that must equal
    the dashboard's, and the dashboard's rows for the rows the query returned (`shown`)."""

    keys: tuple[str, ...]
    values: tuple[str, ...]
    shown: Callable[[pd.DataFrame, Path], pd.DataFrame]


def from_mart(sql: str) -> Callable[[pd.DataFrame, Path], pd.DataFrame]:
    """The rows of the mart a page reads: `sql`, which may read the guide's rows as `got`."""

    def shown(got: pd.DataFrame, db: Path) -> pd.DataFrame:
        with duckdb.connect(str(db), read_only=True) as con:
            con.register("got", got)
            return con.execute(sql).df()

    return shown


def each_bid(got: pd.DataFrame, db: Path) -> pd.DataFrame:
    """The Overview's row of each bid."""
    return overview.bid_overview_rows(None, True, path=db)


def benefits_latest(got: pd.DataFrame, db: Path) -> pd.DataFrame:
    """The Bid page's latest year of each money benefit of the guide's bids."""
    latest = pd.concat([bid.benefit_latest_rows(b, True, path=db) for b in got.bid_id.unique()])
    return latest[(latest.unit == "gbp") & latest.category.isin(MONEY)]


def bid_values(got: pd.DataFrame, db: Path) -> pd.DataFrame:
    """Each bid's NPV, BCR and payback as the Overview shows them, and its whole-life figures
    as the Bid page does."""
    bids = overview.bid_overview_rows(None, True, path=db)
    whole_life = ["whole_life_npv_gbp", "whole_life_bcr", "whole_life_payback_year"]
    pages = [bid.bid_value(b, path=db)[whole_life].assign(bid_id=b) for b in bids.bid_id]
    return bids.merge(pd.concat(pages), on="bid_id")


def overview_totals(got: pd.DataFrame, db: Path) -> pd.DataFrame:
    """The Overview's totals across bids, worked out as its page does."""
    bids = overview.bid_overview_rows(None, True, path=db)
    totals = {
        "npv_gbp": bids.npv_gbp.sum(),
        "benefit_cost_ratio": bids.pv_benefits_gbp.sum() / bids.pv_cost_gbp.sum(),
        "cashable_realised_gbp": bids.cashable_realised_gbp.sum(),
        "one_off_realised_gbp": bids.one_off_realised_gbp.sum(),
    }
    return pd.DataFrame([totals])


def response_months(got: pd.DataFrame, db: Path) -> pd.DataFrame:
    """The Response times page's trend for each service and category, over the guide's months."""
    frames = [
        response_times.response_trend(
            service, category, None, rows.month.min().date(), rows.month.max().date(), path=db
        ).assign(incident_category=category)
        for (service, category), rows in got.groupby(["service", "incident_category"])
    ]
    return pd.concat(frames)


def response_latest_month(got: pd.DataFrame, db: Path) -> pd.DataFrame:
    """The Response times page's headline for primary fires, to the guide's last month."""
    return response_times.response_latest_month(
        "fire", "primary_fire", None, got.month.max().date(), path=db
    )


FIGURES = {
    "realised": Figure(
        ("bid_id",),
        ("cashable_realised_gbp", "non_cashable_realised_gbp", "one_off_realised_gbp"),
        each_bid,
    ),
    "benefit-saving": Figure(
        ("benefit_id",),
        ("financial_year", "improvement", "attributed_improvement"),
        benefits_latest,
    ),
    "counterfactual": Figure(
        ("benefit_id", "financial_year"),
        ("treated_units", "comparison_units", "effect", "counterfactual_value"),
        from_mart("""
            select benefit_id, financial_year, treated_units, comparison_units, effect,
                   counterfactual_value
            from marts.fct_benefit_counterfactual
            semi join got using (benefit_id, financial_year)
        """),
    ),
    "unit-changes": Figure(
        ("benefit_id", "unit_id", "financial_year"),
        ("arm", "unit_change"),
        from_mart("""
            select benefit_id, unit_id, financial_year, arm, unit_change
            from intermediate.int_benefit_unit_panel
            semi join got using (benefit_id, financial_year)
        """),
    ),
    "one-off": Figure(
        ("benefit_id", "financial_year"),
        ("actual_value", "improvement"),
        from_mart("""
            select benefit_id, financial_year, actual_value, improvement
            from marts.fct_benefit_realisation
            where benefit_id in (select benefit_id from got)
        """),
    ),
    "appraisal-years": Figure(
        ("bid_id",),
        ("to_date_year", "appraisal_from", "appraisal_to"),
        from_mart(
            "select bid_id, to_date_year, appraisal_from, appraisal_to from marts.fct_bid_value"
        ),
    ),
    "yearly-costs": Figure(
        ("bid_id", "financial_year"),
        ("cost_real_gbp",),
        from_mart("""
            select bid_id, financial_year, cost_real_gbp
            from marts.fct_bid_cash_flows
            where bid_id in (select bid_id from got)
              and capital_cost_cash_gbp + recurring_cost_cash_gbp <> 0
        """),
    ),
    "yearly-benefits": Figure(
        ("bid_id", "financial_year"),
        ("benefits_real_gbp",),
        from_mart("""
            select bid_id, financial_year, benefits_real_gbp
            from marts.fct_bid_cash_flows
            where bid_id in (select bid_id from got) and benefits_real_gbp <> 0
        """),
    ),
    "bid-value": Figure(
        ("bid_id",),
        (
            "pv_benefits_gbp",
            "pv_cost_gbp",
            "npv_gbp",
            "benefit_cost_ratio",
            "payback_year",
            "whole_life_npv_gbp",
            "whole_life_bcr",
            "whole_life_payback_year",
        ),
        bid_values,
    ),
    "overview-totals": Figure(
        (),
        ("npv_gbp", "benefit_cost_ratio", "cashable_realised_gbp", "one_off_realised_gbp"),
        overview_totals,
    ),
    "response-months": Figure(
        ("service", "incident_category", "county", "month"),
        (
            "incidents",
            "mean_response_minutes",
            "median_response_minutes",
            "p90_response_minutes",
            "share_within_standard",
            "call_handling_minutes",
            "turnout_minutes",
            "drive_minutes",
        ),
        response_months,
    ),
    "response-latest-month": Figure(
        ("service", "county", "month"),
        ("incidents", "median_response_minutes", "p90_response_minutes", "share_within_standard"),
        response_latest_month,
    ),
}


# ---------------------------------------------------------------- comparing rows


def same(guide, dashboard) -> bool:
    """Two cells agree: both empty, numbers alike to nine significant figures, or equal."""
    if pd.isna(guide) and pd.isna(dashboard):
        return True
    if isinstance(guide, int | float) and isinstance(dashboard, int | float):
        return math.isclose(guide, dashboard, rel_tol=1e-9, abs_tol=1e-6)
    return guide == dashboard


def by_key(frame: pd.DataFrame, keys: tuple[str, ...], side: str) -> dict[tuple, pd.Series]:
    rows = {tuple(row[k] for k in keys): row for _, row in frame.iterrows()}
    assert len(rows) == len(frame), f"the {side}'s rows repeat a key ({keys})"
    return rows


def assert_shows(got: pd.DataFrame, shown: pd.DataFrame, figure: Figure) -> None:
    """The guide's rows are the dashboard's: the same keys, none more or fewer, the same values."""
    missing = {*figure.keys, *figure.values} - set(got.columns)
    assert not missing, f"the query returns no {sorted(missing)}"
    guide = by_key(got, figure.keys, "guide")
    dashboard = by_key(shown, figure.keys, "dashboard")
    assert guide.keys() == dashboard.keys(), (
        f"rows only in the guide: {sorted(guide.keys() - dashboard.keys())}; "
        f"only on the dashboard: {sorted(dashboard.keys() - guide.keys())}"
    )
    for key, row in guide.items():
        for column in figure.values:
            ours, theirs = row[column], dashboard[key][column]
            assert same(ours, theirs), f"{key} {column}: guide {ours!r}, dashboard {theirs!r}"


def test_a_guide_row_that_differs_from_the_dashboard_fails():
    """Known answers: a penny out, a row missing, a row more and a figure left out all fail."""
    figure = Figure(("bid_id",), ("npv_gbp",), each_bid)
    shown = pd.DataFrame({"bid_id": ["A", "B"], "npv_gbp": [100.0, None]})
    assert_shows(shown.copy(), shown, figure)
    assert_shows(
        pd.DataFrame({"bid_id": ["B", "A"], "npv_gbp": [float("nan"), 100.0]}), shown, figure
    )
    wrong = [
        pd.DataFrame({"bid_id": ["A", "B"], "npv_gbp": [100.01, None]}),
        pd.DataFrame({"bid_id": ["A"], "npv_gbp": [100.0]}),
        pd.DataFrame({"bid_id": ["A", "B", "C"], "npv_gbp": [100.0, None, 1.0]}),
        pd.DataFrame({"bid_id": ["A", "B"], "npv_gbp": [100.0, 0.0]}),
        pd.DataFrame({"bid_id": ["A", "B"], "bcr": [1.0, 2.0]}),
    ]
    for got in wrong:
        with pytest.raises(AssertionError):
            assert_shows(got, shown, figure)


# ---------------------------------------------------------------- the guide's SQL


def test_every_sql_block_says_how_it_is_checked_and_every_figure_is_reproduced():
    assert len(BLOCKS) == GUIDE.count("```sql")
    for kind, what, sql in BLOCKS:
        assert kind, f"a SQL block with no check comment before it:\n{sql}"
        assert "```" not in sql
        if kind == "illustrative":
            assert what.strip(), f"an illustrative block says why it is not run:\n{sql}"
        else:
            assert what == RUNS or what in FIGURES, f"no such check: {what}"
    checked = {what for kind, what, _ in BLOCKS if kind == "check"}
    assert set(FIGURES) <= checked, f"not reproduced in the guide: {set(FIGURES) - checked}"


def block_id(n: int, kind: str, what: str) -> str:
    return f"{n}-{what if kind == 'check' else kind or 'unmarked'}"


@pytest.mark.parametrize(
    ("kind", "what", "sql"),
    BLOCKS,
    ids=[block_id(n, k, w) for n, (k, w, _) in enumerate(BLOCKS, start=1)],
)
def test_each_query_runs_and_returns_what_the_dashboard_shows(
    demo_home, kind, what, sql, monkeypatch
):
    assert kind, f"a SQL block with no check comment before it:\n{sql}"
    if kind == "illustrative":
        return  # not run, for the reason the guide gives (checked above)
    monkeypatch.chdir(demo_home)  # the guide: "a session started in the data directory"
    published = settings_for(demo_home).published_db
    # The comparison is run in a session on an older version, with today's attached beside it.
    opened = publish.version_files(published)[0] if COMPARES_VERSIONS in sql else published
    with duckdb.connect(str(opened), read_only=True) as con:
        got = con.execute(sql).df()
    if not sql.startswith(MAY_BE_EMPTY):
        assert not got.empty, sql
    for check in ("matches", "unchanged"):  # re-performed figures and archived files hold
        if check in got.columns:
            assert got[check].eq(True).all(), got
    if what in FIGURES:
        figure = FIGURES[what]
        assert_shows(got, figure.shown(got, published), figure)


# ---------------------------------------------------------------- opening the warehouse


def opening_snippet(language: str) -> str:
    """The guide's first code block in `language`: how to open the warehouse."""
    found = re.search(rf"^```{language}\n(.*?)^```", GUIDE, re.MULTILINE | re.DOTALL)
    assert found, language
    return found.group(1)


def warehouse_with_a_run(home: Path, run_id: str) -> None:
    """A warehouse file in `home` whose one run is `run_id`."""
    (home / "warehouse").mkdir(parents=True)
    with duckdb.connect(str(home / "warehouse" / "bluelight.duckdb")) as con:
        con.execute("create schema audit")
        con.execute("create table audit.load_runs as select ? as run_id", [run_id])


def test_the_opening_snippets_open_the_warehouse_the_settings_name(
    demo_home, tmp_path, monkeypatch, capsys
):
    """BLUELIGHT_HOME when it is set, else $XDG_DATA_HOME/bluelight, else
    ~/.local/share/bluelight: the shell line and the Python open the file the settings name."""
    shell = opening_snippet("bash").splitlines()[0] + "\npwd -P"
    python = compile(opening_snippet("python"), "docs/auditors.md", "exec")
    user, xdg = tmp_path / "user", tmp_path / "xdg"
    with duckdb.connect(str(settings_for(demo_home).published_db), read_only=True) as con:
        demo_run = con.execute(publish.PUBLISHING_RUN_SQL).fetchone()[0]
    homes = [
        ({"BLUELIGHT_HOME": str(demo_home)}, demo_home, demo_run),
        ({"XDG_DATA_HOME": str(xdg)}, xdg / "bluelight", "run-in-xdg-data-home"),
        ({}, user / ".local" / "share" / "bluelight", "run-in-the-default-home"),
    ]
    for environment, home, run_id in homes:
        for name in ("BLUELIGHT_HOME", "XDG_DATA_HOME"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOME", str(user))
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        assert Settings.from_env().home.resolve() == home.resolve()
        if home != demo_home:
            warehouse_with_a_run(home, run_id)
        moved_to = subprocess.run(
            ["bash", "-c", shell], env=dict(os.environ), capture_output=True, text=True, check=True
        ).stdout.strip()
        assert Path(moved_to) == home.resolve()
        monkeypatch.chdir(tmp_path)  # the snippet changes directory; this puts it back after
        exec(python, {})
        assert run_id in capsys.readouterr().out


# ---------------------------------------------------------------- what the guide describes


def test_every_view_reads_in_a_kept_version_opened_or_attached_under_its_own_name(demo_home):
    """The guide opens a kept version as its file (`duckdb -readonly <version>`), whose catalog
    is then `bluelight-<run id>`, and compares it with today's attached as `now`: a view that
    named the catalog it was built in ("bluelight") read in neither."""
    version = publish.version_files(settings_for(demo_home).published_db)[0]
    assert version.stem != "bluelight"
    query = "select schema_name, view_name from duckdb_views() where not internal"
    with duckdb.connect(str(version), read_only=True) as con:
        views = con.execute(query).fetchall()
        assert ("intermediate", "int_incidents__with_area") in views
        for schema, view in views:
            assert con.execute(f'select count(*) from "{schema}"."{view}"').fetchone()[0] > 0
    with duckdb.connect() as con:
        con.execute(f"attach '{version}' as kept (read_only)")
        for schema, view in views:
            assert con.execute(f'select count(*) from kept."{schema}"."{view}"').fetchone()[0] > 0


def test_the_guide_describes_every_schema_and_every_audit_column(demo_home):
    with duckdb.connect(str(settings_for(demo_home).published_db), read_only=True) as con:
        schemas = {
            r[0]
            for r in con.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
        audit_columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'audit'"
        ).fetchall()
    for schema in schemas:
        assert f"| `{schema}` |" in GUIDE, schema
    for table, column in audit_columns:
        row = next(line for line in GUIDE.splitlines() if line.startswith(f"| `{table}` |"))
        assert f"`{column}`" in row, (table, column)
