"""The dbt project follows from the contracts and documents what it builds."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from flows.load.quarantine import ACCEPTED
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.transform import dbt_yaml
from flows.warehouse.schema import ensure_schema

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"
DOC_REFERENCE = re.compile(r"""\{\{\s*doc\(\s*['"]([^'"]+)['"]\s*\)\s*\}\}""")


def test_source_and_staging_yaml_and_doc_blocks_are_written_from_the_contracts():
    for path, expected in dbt_yaml.expected_files().items():
        assert path.read_text() == expected, (
            f"{path.name} is stale: run `bluelight sources --write`"
        )


def _descriptions(node):
    """Every description in a parsed YAML file: of models, sources, tables and columns."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _descriptions(item)


def _hand_written_yaml():
    generated = {path.resolve() for path in dbt_yaml.expected_files()}
    for path in sorted(MODELS.rglob("*.yml")):
        if path.resolve() not in generated:
            yield path, yaml.safe_load(path.read_text())


def test_no_description_copies_a_contract_description():
    """A column that carries a contract's column references its doc block
    (`"{{ doc('incidents__service') }}"`): a copy of the text would drift from the contract.
    A column that means something else says so in its own words."""
    blocks = {" ".join(text.split()): name for name, text in dbt_yaml.doc_blocks().items()}
    copies = [
        f"{path.relative_to(MODELS)}: {description!r} is doc('{blocks[text]}')"
        for path, document in _hand_written_yaml()
        for description in _descriptions(document)
        if (text := " ".join(description.split())) in blocks
    ]
    assert not copies, "\n".join(copies)


def test_every_doc_reference_names_a_doc_block():
    blocks = dbt_yaml.doc_blocks()
    unknown = [
        f"{path.relative_to(MODELS)}: {name}"
        for path in MODELS.rglob("*.yml")
        for name in DOC_REFERENCE.findall(path.read_text())
        if name not in blocks
    ]
    assert not unknown, unknown


def test_dbt_renders_doc_references_to_the_contract_text(tmp_path):
    """dbt's parse fails on a doc it cannot find, and puts each reference's text in the manifest,
    which `+persist_docs` writes as the column's comment in the warehouse."""
    import json

    from flows.transform.dbt import invoke_dbt

    result = invoke_dbt(
        ["parse"], Settings(), build_db=tmp_path / "bluelight.duckdb", work_dir=tmp_path
    )
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "dbt_target" / "manifest.json").read_text())
    blocks = dbt_yaml.doc_blocks()
    # A source's tables are named by their group too: raw and accepted both hold `incidents`.
    rendered = {
        (node.get("source_name"), node["name"], name): column["description"]
        for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        for name, column in node.get("columns", {}).items()
    }
    checked = 0
    for path in MODELS.rglob("*.yml"):
        document = yaml.safe_load(path.read_text())
        for group, node in [(None, model) for model in document.get("models", [])] + [
            (source["name"], table)
            for source in document.get("sources", [])
            for table in source["tables"]
        ]:
            for column in node.get("columns", []):
                expected = DOC_REFERENCE.sub(lambda m: blocks[m[1]], column["description"])
                actual = rendered[(group, node["name"], column["name"])]
                assert actual == expected, (node["name"], column["name"], actual)
                checked += expected != column["description"]
    assert checked > 300


def test_every_model_and_column_is_documented():
    documented = {}
    for path in MODELS.rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            documented[model["name"]] = model
    # SQL models, and the dbt Python models (fct_benefit_attribution, fct_benefit_counterfactual)
    models = {p.stem for p in [*MODELS.rglob("*.sql"), *MODELS.rglob("*.py")]}
    assert models == set(documented)
    for name, model in documented.items():
        assert model.get("description"), name
        for column in model["columns"]:
            assert column.get("description"), f"{name}.{column['name']}"


def test_dbt_docs_describe_every_column_of_every_mart(demo_home, tmp_path):
    import json
    import shutil

    from flows.transform.dbt import invoke_dbt

    warehouse = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_home / "warehouse" / "bluelight.duckdb", warehouse)
    result = invoke_dbt(["docs", "generate"], Settings(), build_db=warehouse, work_dir=tmp_path)
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "dbt_target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "dbt_target" / "catalog.json").read_text())
    marts = [n for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"]
    assert len(marts) >= 15
    for node in marts:
        documented = manifest["nodes"][node["unique_id"]]["columns"]
        for column in node["columns"]:
            assert documented.get(column, {}).get("description"), f"{node['unique_id']}.{column}"


def test_a_view_tested_by_load_changes_its_older_rows_only_in_a_full_build(tmp_path):
    """`meta: {tested_by_load: true}` lets a night test only its own loads of a view
    (macros/get_where_subquery.sql). That is safe only while the view's older rows change in a
    full build alone: each thing it reads is incremental, tested by load itself, or the
    boundaries (a night that loads a boundaries file rebuilds in full)."""
    import json

    from flows.transform.dbt import invoke_dbt

    result = invoke_dbt(
        ["parse"], Settings(), build_db=tmp_path / "bluelight.duckdb", work_dir=tmp_path
    )
    assert result.success, result.exception
    nodes = json.loads((tmp_path / "dbt_target" / "manifest.json").read_text())["nodes"]
    flagged = [n for n in nodes.values() if n["config"]["meta"].get("tested_by_load")]
    assert {n["name"] for n in flagged} == {"int_incidents__with_area", "int_incident_measures"}
    for node in flagged:
        assert node["config"]["materialized"] == "view", node["name"]
        for parent in map(nodes.get, node["depends_on"]["nodes"]):
            assert (
                parent["config"]["materialized"] == "incremental"
                or parent["config"]["meta"].get("tested_by_load")
                or parent["name"] == "stg_agency__boundaries"
            ), (node["name"], parent["name"])


def test_dbt_runs_within_the_memory_limit_the_settings_give(tmp_path):
    """dbt's DuckDB takes BLUELIGHT_DUCKDB_MEMORY_LIMIT (through flows/transform/dbt.py
    `invoke_dbt`), instead of DuckDB's default of 80% of the machine."""
    from flows.transform.dbt import invoke_dbt

    query = "select current_setting('memory_limit') as memory_limit"
    result = invoke_dbt(
        ["show", "--inline", query],
        Settings(duckdb_memory_limit="1GB"),
        build_db=tmp_path / "w.duckdb",
        work_dir=tmp_path,
    )
    assert result.success, result.exception
    shown = result.result.results[0].agate_table.rows[0][0]
    assert shown == "953.6 MiB"  # DuckDB reports 1 GB (10^9 bytes) in binary units


def test_staging_keeps_each_keys_latest_version_when_one_line_gave_several_rows(tmp_path):
    """A corrected release replaces its rows by key, and only those: the other rows the same
    line of the file gave (a police workforce file gives one per sheet, AmbSYS one per measure)
    stay. Known answer: four rows from release A, one of them corrected by release B."""
    import duckdb

    from flows.transform.dbt import invoke_dbt

    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        for load, loaded_at, row, table, as_at, force, fte in [
            ("A", "2024-01-01", 10, "Table_1", "2023-03-31", "Kent", "100"),
            ("A", "2024-01-01", 10, "Table_1", "2024-03-31", "Kent", "110"),
            ("A", "2024-01-01", 10, "Table_2", "2024-03-31", "Essex", "50"),
            ("A", "2024-01-01", 11, "Table_1", "2024-03-31", "Essex", "70"),
            ("B", "2024-02-01", 10, "Table_1", "2024-03-31", "Kent", "111"),  # the correction
        ]:
            con.execute(
                "insert into accepted.police_workforce_tables (table_name, worker_type, "
                "as_at_date, force_name, fte, _load_id, _loaded_at, _source_file, _source_sha256, "
                "_source_row) values (?, 'officers', ?, ?, ?, ?, ?, 'workforce.ods', 'x', ?)",
                [table, as_at, force, fte, load, loaded_at, row],
            )
    result = invoke_dbt(
        ["run", "--select", "stg_published__police_workforce_tables"],
        Settings(),
        build_db=db,
        work_dir=tmp_path,
    )
    assert result.success, result.exception
    with duckdb.connect(str(db), read_only=True) as con:
        kept = con.execute(
            "select table_name, as_at_date::varchar, force_name, fte, _load_id "
            "from staging.stg_published__police_workforce_tables order by all"
        ).fetchall()
    assert kept == [
        ("Table_1", "2023-03-31", "Kent", 100.0, "A"),
        ("Table_1", "2024-03-31", "Essex", 70.0, "A"),
        ("Table_1", "2024-03-31", "Kent", 111.0, "B"),
        ("Table_2", "2024-03-31", "Essex", 50.0, "A"),
    ]


def test_quarantined_rows_are_left_out_by_a_hash_join(tmp_path):
    """Filling an upgraded warehouse's accepted tables leaves quarantined rows out of raw by an
    anti join on load, row and record. A condition DuckDB cannot hash (`record is null or
    record = ...`) made it a nested loop over raw rows times quarantine rows: 2 million by 5,000
    took 12.7 s, not 0.1."""
    import duckdb

    from flows.load.accepted import parsed_columns

    fill = (
        f"select {parsed_columns(SOURCES['ambsys'], 'r')} from raw.ambsys as r "
        f"{ACCEPTED.format(alias='r')}"
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_schema(con)
        plan = "\n".join(row[1] for row in con.execute(f"explain {fill}").fetchall())
    assert "HASH_JOIN" in plan and "NL_JOIN" not in plan, plan
