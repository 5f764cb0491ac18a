"""The marts that hold one fact each for everything outside dbt: the method's parameters (the
vars in dbt_project.yml, which the dashboard's help text reads) and each month's financial year
(the financial_year macro, which the dashboard joins on instead of doing its own arithmetic)."""

from __future__ import annotations

from datetime import date

import yaml
from conftest import open_published

from flows.settings import PROJECT_ROOT


def test_the_parameters_in_force_are_the_dbt_vars(demo_home):
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    with open_published(demo_home) as con:
        rows = con.execute(
            "select parameter, value, unit, description from marts.dim_method_parameters"
        ).fetchall()
    assert {r[0]: r[1] for r in rows} == {k: float(v) for k, v in project["vars"].items()}
    assert all(r[2] and r[3] for r in rows)  # every parameter says what it counts and decides


def test_each_month_has_its_financial_year_april_to_march(demo_home):
    with open_published(demo_home) as con:
        years = dict(con.execute("select month, financial_year from marts.dim_months").fetchall())
        count = con.execute("select count(*) from marts.dim_months").fetchone()[0]
    assert years[date(2016, 3, 1)] == "2015-16"  # March closes the year begun in April
    assert years[date(2016, 4, 1)] == "2016-17"
    assert years[date(2000, 4, 1)] == "2000-01"
    assert years[date(2051, 3, 1)] == "2050-51"
    assert years[date(2000, 12, 1)] == "2000-01"  # December 2000 is still 2000-01
    assert count == 51 * 12  # April 2000 to March 2051, each month once


def test_the_method_names_every_parameter_and_every_link_finds_its_section():
    import re

    from dashboard.method import METHOD_DOC, sections

    method = METHOD_DOC.read_text(encoding="utf-8")
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert [v for v in project["vars"] if f"`{v}`" not in method] == []
    linked = {
        m.group(1)
        for path in (PROJECT_ROOT / "dashboard").rglob("*.py")
        for m in re.finditer(r"link\(\s*\"([a-z0-9-]+)\"", path.read_text())
    }
    assert linked  # the pages do link to the method
    assert linked - set(sections()) == set()
