"""The dbt project follows from the contracts and documents what it builds."""

from __future__ import annotations

from pathlib import Path

import yaml

from flows import dbt_yaml

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"


def test_source_and_staging_yaml_are_written_from_the_contracts():
    for path, expected in dbt_yaml.expected_files().items():
        assert path.read_text() == expected, (
            f"{path.name} is stale: run `bluelight sources --write`"
        )


def test_every_model_and_column_is_documented():
    documented = {}
    for path in MODELS.rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            documented[model["name"]] = model
    sql_models = {p.stem for p in MODELS.rglob("*.sql")}
    assert sql_models == set(documented)
    for name, model in documented.items():
        assert model.get("description"), name
        for column in model["columns"]:
            assert column.get("description"), f"{name}.{column['name']}"


def test_dbt_docs_describe_every_column_of_every_mart(demo_home, tmp_path):
    import json
    import shutil

    from flows.nightly import invoke_dbt

    warehouse = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_home / "warehouse" / "bluelight.duckdb", warehouse)
    result = invoke_dbt(["docs", "generate"], warehouse, tmp_path)
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "dbt_target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "dbt_target" / "catalog.json").read_text())
    marts = [n for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"]
    assert len(marts) >= 15
    for node in marts:
        documented = manifest["nodes"][node["unique_id"]]["columns"]
        for column in node["columns"]:
            assert documented.get(column, {}).get("description"), f"{node['unique_id']}.{column}"


def test_dbt_runs_within_the_memory_limit_the_settings_give(tmp_path):
    """dbt's DuckDB takes BLUELIGHT_DUCKDB_MEMORY_LIMIT (through flows/nightly.invoke_dbt),
    instead of DuckDB's default of 80% of the machine."""
    from flows.nightly import invoke_dbt

    query = "select current_setting('memory_limit') as memory_limit"
    result = invoke_dbt(
        ["show", "--inline", query], tmp_path / "w.duckdb", tmp_path, memory_limit="1GB"
    )
    assert result.success, result.exception
    shown = result.result.results[0].agate_table.rows[0][0]
    assert shown == "953.6 MiB"  # DuckDB reports 1 GB (10^9 bytes) in binary units
