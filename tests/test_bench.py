"""The benchmark's own parts: its plain-DuckDB baseline computes the headline mart, and its
report replaces only its tier's section of docs/performance.md."""

from __future__ import annotations

import duckdb
import pytest

from flows.bench import bench
from flows.bench import report as results


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
    con.execute(bench.BASELINE_SQL.format(inbox=tmp_path))
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


def test_the_report_shows_both_nights_and_their_share_of_the_full_run():
    run = results.Measured(1000.0, 5000.0)
    report = results.Report(
        "national",
        250.0,
        10,
        rows=145_000_000,
        baseline=results.Measured(200.0, 900.0),
        pipeline=run,
        stages={"ingest": 400.0, "dbt_build": 580.0},
        nights=[
            (results.Measured(60.0, 2600.0), {"dbt_build": 45.0}, 39_942),
            (results.Measured(40.0, 2600.0), {"dbt_build": 25.0}, 39_700),
        ],
    )
    text = results.render(report)
    assert "| whole run / baseline | 5.0x |" in text
    assert "| run without start-up / baseline | 4.9x |" in text  # 980 s of stages
    assert (
        "| one more night, straight after the full run (39,942 incidents) | 60.0 s "
        "(6.0% of the full run) |" in text
    )
    assert "| the next night (39,700 incidents) | 40.0 s (4.0% of the full run) |" in text
    assert "| the next night, by stage | dbt_build 25.0 s |" in text
