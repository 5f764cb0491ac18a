"""docs/auditors.md: every SQL example runs as written against the demo warehouse, and the guide
describes every schema and every audit table and column the warehouse has."""

from __future__ import annotations

import re

import duckdb
import pytest
from conftest import settings_for

from flows.settings import PROJECT_ROOT
from flows.warehouse import publish
from flows.warehouse.schema import AUDIT_DDL

GUIDE = (PROJECT_ROOT / "docs" / "auditors.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"^```sql\n(.*?)^```", GUIDE, flags=re.DOTALL | re.MULTILINE)
MAY_BE_EMPTY = "-- (no rows when"  # the first line of an example that may find nothing
COMPARES_VERSIONS = "attach 'warehouse/bluelight.duckdb' as now"


def test_the_guide_has_its_examples():
    assert len(EXAMPLES) >= 8
    assert "```" not in "".join(EXAMPLES)


@pytest.mark.parametrize("sql", EXAMPLES, ids=[f"example{n}" for n in range(1, len(EXAMPLES) + 1)])
def test_each_example_runs_as_written_on_the_demo_warehouse(demo_home, sql, monkeypatch):
    monkeypatch.chdir(demo_home)  # the guide: "a session started in the data directory"
    published = settings_for(demo_home).published_db
    # The comparison is run in a session on an older version, with today's attached beside it.
    opened = publish.version_files(published)[0] if COMPARES_VERSIONS in sql else published
    with duckdb.connect(str(opened), read_only=True) as con:
        result = con.execute(sql)
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
    if not sql.startswith(MAY_BE_EMPTY):
        assert rows, sql
    for check in ("matches", "unchanged"):  # re-performed figures and archived files hold
        if check in columns:
            assert all(row[columns.index(check)] is True for row in rows), rows


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
    for schema in schemas:
        assert f"| `{schema}` |" in GUIDE, schema
    for table, body in re.findall(
        r"create table if not exists audit\.(\w+) \((.*?)\);", AUDIT_DDL, re.DOTALL
    ):
        row = next(line for line in GUIDE.splitlines() if line.startswith(f"| `{table}` |"))
        for column in re.findall(r"(\w+) (?:varchar|timestamp|integer|bigint|boolean|json)", body):
            assert f"`{column}`" in row, (table, column)
