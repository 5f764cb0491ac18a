"""The dbt project follows from the contracts and documents what it builds."""

from __future__ import annotations

from pathlib import Path

import yaml

from flows import dbt_yaml

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"


def test_source_and_staging_yaml_are_written_from_the_contracts():
    for path, expected in dbt_yaml.expected_files().items():
        assert path.read_text() == expected, (
            f"{path.name} is stale: run `bluelight sources --write-dbt`"
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
