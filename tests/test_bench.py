"""The benchmark's own parts: its plain-DuckDB baseline checks the files as their contracts say
and computes the headline mart; its report shows each stage's share of the run and ratio to its
part of the baseline, names the commit measured, and replaces only its tier's section of
docs/performance.md. No timings are asserted: the reports here are built by hand."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import pytest

from flows.bench import baseline, lake_bench, lake_report
from flows.bench import report as results
from flows.sources.contracts import SOURCES
from flows.warehouse import catalog_server, lake
from flows.warehouse.schema import PARSE_MACROS


def test_the_baseline_computes_monthly_response_times_per_service_and_county(tmp_path):
    (tmp_path / "boundaries").mkdir()
    (tmp_path / "incidents").mkdir()
    (tmp_path / "boundaries" / "b.csv").write_text("district_code,county\nD1,Testshire\n")
    # Three fire calls in June 2016 answered in 5, 10 and 30 minutes:
    # mean 15, median 10, p90 (continuous) = 10 + 0.8 * (30 - 10) = 26 minutes.
    (tmp_path / "incidents" / "i.csv").write_text(
        "service,district_code,call_time,first_arrival_time\n"
        "fire,D1,2016-06-01 10:00:00,2016-06-01 10:05:00\n"
        "fire,D1,2016-06-02 10:00:00,2016-06-02 10:10:00\n"
        "fire,D1,2016-06-03 10:00:00,2016-06-03 10:30:00\n"
    )
    con = duckdb.connect()
    con.execute(baseline.read_sql(tmp_path) + baseline.MODEL_SQL)
    row = con.execute(
        "select service, county, month::date::varchar, incidents, mean_min, median_min, p90_min "
        "from response_monthly"
    ).fetchone()
    assert row[:4] == ("fire", "Testshire", "2016-06-01", 3)
    assert row[4:] == pytest.approx((15.0, 10.0, 26.0))


def test_a_tier_report_replaces_its_own_section_and_keeps_the_rest(tmp_path, monkeypatch):
    doc = tmp_path / "performance.md"
    doc.write_text(
        f"# Performance\n\nProse before.\n\n{results.BEGIN}\n### Tier `county` old\n\n"
        f"### Tier `region` kept\n{results.END}\n\nProse after.\n"
    )
    monkeypatch.setattr(results, "PERFORMANCE_DOC", doc)
    results.write_doc(results.Report("county", 1.0), "### Tier `county` new\n")
    text = doc.read_text()
    assert "Prose before." in text and "Prose after." in text
    assert "### Tier `county` new" in text and "old" not in text
    assert "### Tier `region` kept" in text
    assert text.index("`county` new") < text.index("`region` kept")  # tiers in size order


def test_the_baseline_check_counts_each_contract_rule_broken(tmp_path):
    (tmp_path / "boundaries").mkdir()
    (tmp_path / "incidents").mkdir()
    header = ",".join(SOURCES["boundaries"].column_names)
    (tmp_path / "boundaries" / "b.csv").write_text(
        f"{header}\n"
        "D1,One,Testshire,urban,1000,P,Police,F,Fire,A,Ambulance\n"
        "D2,Two,Testshire,suburban,-5,P,Police,F,Fire,A,Ambulance\n"  # not allowed, below 0
        "D2,Two,Testshire,rural,many,P,Police,F,Fire,A,Ambulance\n"  # repeated key, no integer
    )
    (tmp_path / "incidents" / "i.csv").write_text(
        "incident_id,service,incident_category,district_code,call_time,mobilised_time,"
        "mobile_time,first_arrival_time\n"
        "I1,fire,rtc,D1,2016-06-01 10:00:00,2016-06-01 10:01:00,,2016-06-01 10:05:00\n"
        "I1,fire,rtc,D1,2016-06-01 10:00:00,,,yesterday\n"  # repeated, missing, unparsed
        "I2,coastguard,rtc,D1,2016-06-01 10:00:00,2016-06-01 10:01:00,,2016-06-01 10:05:00\n"
    )
    con = duckdb.connect()
    con.execute("create schema raw;" + PARSE_MACROS)
    con.execute(baseline.read_sql(tmp_path))
    broken = {rule: n for rule, n in baseline.check(con).items() if n}
    assert broken == {
        "rural_urban: not allowed": 1,
        "population: not parsed as integer": 1,
        "population: below minimum": 1,
        "key (district_code): repeated": 1,
        "mobilised_time: missing": 1,
        "first_arrival_time: not parsed as timestamp": 1,
        "service: not allowed": 1,
        "key (service, incident_id): repeated": 1,
    }
    # The script runs the three parts on one connection, each timed (the times not asserted);
    # the model casts as plain DuckDB would, so on the files' first, clean rows.
    for csv in (tmp_path / "boundaries" / "b.csv", tmp_path / "incidents" / "i.csv"):
        csv.write_text("".join(csv.read_text().splitlines(keepends=True)[:2]))
    assert list(baseline.run(str(tmp_path), ":memory:")) == ["read", "check", "model"]


def _county_report(**changes) -> results.Report:
    """A report as a county run would give, built by hand."""
    stages = {"prepare": 0.5, "fetch": 0.0, "ingest": 12.0, "freshness": 0.0}
    stages |= {"check_loaded": 3.0, "dbt_build": 10.0, "check_marts": 1.0, "publish": 0.5}
    fields = dict(
        rows=800_000,
        incidents=790_000,
        commit="abc1234",
        baseline=results.Measured(2.2, 300.0),
        baseline_parts={"read": 1.5, "check": 0.2, "model": 0.5},
        pipeline=results.Measured(36.0, 1100.0),  # 27 s of stages, 9 s outside them
        stages=stages,
        nights=[
            (results.Measured(20.0, 900.0), {"ingest": 0.4, "dbt_build": 8.0}, 157),
            (results.Measured(16.0, 900.0), {"ingest": 0.3, "dbt_build": 6.0}, 156),
        ],
    )
    return results.Report("county", 1.0, **(fields | changes))


def _row(text: str, stage: str) -> list[str]:
    """The stage table's row for `stage` (bold or not), as its cells."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0].strip("*") == stage:
            return cells
    raise AssertionError(f"no row for {stage}")


def test_the_stage_shares_sum_to_the_whole_run_and_the_biggest_is_marked():
    report = _county_report()
    text = results.render(report)
    rows = [_row(text, stage) for stage in [*report.stages, results.STARTUP]]
    assert sum(float(row[2].strip("*◀ %")) for row in rows) == pytest.approx(100.0, abs=0.5)
    assert _row(text, "ingest")[:3] == ["**ingest**", "12.0", "**33.3%** ◀"]  # 12 of 36 s
    assert _row(text, results.STARTUP)[1:3] == ["9.0", "25.0%"]  # outside the stages
    assert [row[2] for row in rows].count("**33.3%** ◀") == 1
    assert _row(text, "whole run")[1:3] == ["**36.0**", "100%"]


def test_each_stage_is_set_against_its_part_of_the_baseline():
    text = results.render(_county_report())
    assert _row(text, "ingest")[4:7] == ["read", "1.50", "8.0x"]
    assert _row(text, "dbt_build")[4:7] == ["model", "0.50", "20.0x"]
    # The gate's two stages together against the check: 4 s against 0.2 s.
    assert _row(text, "check_loaded")[4:7] == ["check, with check_marts", "0.20", "20.0x"]
    assert _row(text, "check_marts")[4:7] == ["check, with check_loaded", "0.20", "20.0x"]
    assert _row(text, "prepare")[4:7] == ["", "", ""]  # no part: the baseline keeps no warehouse
    assert _row(text, results.STARTUP)[4:7] == ["", "", ""]
    # The whole run against the whole baseline (36 s against 2.2 s), then its stages (27 s).
    assert _row(text, "whole run")[4:7] == ["read + check + model", "2.20", "**16.4x**"]
    assert _row(text, "without start-up")[4:7] == ["read + check + model", "2.20", "12.3x"]


def test_the_report_names_the_commit_and_the_nights_on_top():
    text = results.render(_county_report(commit="abc1234 + uncommitted changes"))
    assert "at commit abc1234 + uncommitted changes, on" in text
    assert _row(text, "whole run")[7:] == ["20.0", "16.0"]
    assert _row(text, "dbt_build")[7:] == ["8.0", "6.0"]
    assert _row(text, results.STARTUP)[7:] == ["11.6", "9.7"]  # the nights' time outside stages
    assert "| night 1 on top (straight after the full run), 157 incidents | 55.6% of" in text
    assert "| night 2 on top (the warehouse cached), 156 incidents | 44.4% of" in text


def test_the_commit_says_when_the_tree_differs_from_it(monkeypatch):
    answers = {("rev-parse", "--short", "HEAD"): "abc1234", ("status", "--porcelain"): ""}
    monkeypatch.setattr(results, "_git", lambda *args: answers[args])
    assert results.commit() == "abc1234"
    answers[("status", "--porcelain")] = " M flows/bench/report.py"
    assert results.commit() == "abc1234 + uncommitted changes"


def _lake_report() -> lake_report.LakeReport:
    """A comparison as `bluelight bench --backend ducklake` gives, built by hand: the lake's
    ingest twice the file's, its dbt build 1.5 times, publishing a commit instead of a rename."""
    file = _county_report(warehouse_mb=100.0)
    lake = _county_report(
        pipeline=results.Measured(54.0, 1650.0),  # 44.5 s of stages, 9.5 s outside them
        stages=file.stages | {"ingest": 24.0, "dbt_build": 15.0, "publish": 1.0},
        nights=[
            (results.Measured(30.0, 900.0), {"ingest": 0.8, "dbt_build": 12.0}, 157),
            (results.Measured(24.0, 900.0), {"ingest": 0.6, "dbt_build": 9.0}, 156),
        ],
        warehouse_mb=60.0,
    )
    return lake_report.LakeReport(
        "county",
        1.0,
        rows=800_000,
        file=file,
        lake=lake,
        lake_disk_mb=75.0,
        catalog="PostgreSQL 15",
    )


def test_the_lake_report_gives_each_stage_and_the_whole_run_as_lake_over_file():
    text = lake_report.render(_lake_report())
    assert "### Tier `county` on DuckLake" in text
    assert _row(text, "ingest") == [
        "ingest",
        "12.0",
        "24.0",
        "2.00x",
        "0.4",
        "0.8",
        "2.00x",
        "0.3",
        "0.6",
        "2.00x",
    ]
    assert _row(text, "dbt_build")[1:4] == ["10.0", "15.0", "1.50x"]
    assert _row(text, "publish")[1:4] == ["0.5", "1.0", "2.00x"]
    assert _row(text, "fetch")[1:4] == ["0.0", "0.0", ""]  # no ratio of nothing
    assert _row(text, results.STARTUP)[1:4] == ["9.0", "9.5", "1.06x"]  # outside the stages
    assert _row(text, "whole run")[1:] == [
        "36.0",
        "54.0",
        "1.50x",
        "20.0",
        "30.0",
        "1.50x",
        "16.0",
        "24.0",
        "1.50x",
    ]
    assert "| 100.0 MB | 60.0 MB | 0.60x |" in text  # the file against the live Parquet
    assert "| 1,100 MB | 1,650 MB | 1.50x |" in text  # peak memory
    assert "| | 75.0 MB | |" in text


def test_a_file_result_reads_back_as_it_was_written():
    report = _county_report(
        empty_night={"temporary server": (9.0, 3.0, 2.0)}, startup={"imports": 1.5}
    )
    assert results.from_json(results.to_json(report)) == report


def test_the_lake_section_goes_between_its_own_markers(tmp_path, monkeypatch):
    doc = tmp_path / "performance.md"
    doc.write_text(
        f"{results.BEGIN}\n### Tier `county` file\n{results.END}\n\n"
        f"{lake_report.BEGIN}\n{lake_report.END}\n"
    )
    monkeypatch.setattr(results, "PERFORMANCE_DOC", doc)
    results.write_doc(
        _lake_report(), "### Tier `county` on DuckLake\n", lake_report.BEGIN, lake_report.END
    )
    assert doc.read_text() == (
        f"{results.BEGIN}\n### Tier `county` file\n{results.END}\n\n"
        f"{lake_report.BEGIN}\n### Tier `county` on DuckLake\n{lake_report.END}\n"
    )


def test_the_lake_bench_runs_both_backends_on_one_inbox_and_reports_the_ratios(tmp_path):
    """The real thing at a twentieth of the demo's yearly volume, one year, one night on top: the
    same nights on the file and on a lake with a PostgreSQL the bench starts and removes."""
    try:
        lake.extension_directory()
        catalog_server.bin_dir()
    except (lake.LakeError, catalog_server.PostgresMissing) as missing:
        pytest.skip(str(missing))
    catalogs = set(Path(tempfile.gettempdir()).glob("bluelight-bench-catalog-*"))  # others'
    said = []
    report = lake_bench.run_lake_bench(
        "county", tmp_path / "bench", progress=said.append, scale=0.05, years=1, nights=1
    )
    assert said[1:] == [
        f"[{backend}] {step}"
        for backend in ("file", "ducklake")
        for step in ("the nightly flow (bluelight run)", "night 1 on top: a day's incidents")
    ]
    for runs in (report.file, report.lake):
        assert runs.stages["ingest"] > 0 and runs.stages["dbt_build"] > 0
        assert [incidents for _, _, incidents in runs.nights] == [
            incidents for _, _, incidents in report.file.nights
        ]
    assert 0 < report.lake.warehouse_mb <= report.lake_disk_mb
    text = lake_report.render(report)
    for stage in ("ingest", "dbt_build", "publish", "whole run"):
        ratios = _row(text, stage)[3::3]  # the full run's, then the night's
        assert len(ratios) == 2 and all(re.fullmatch(r"\d+\.\d\dx", r) for r in ratios), ratios
    assert "started by the bench" in text
    assert set(Path(tempfile.gettempdir()).glob("bluelight-bench-catalog-*")) <= catalogs
