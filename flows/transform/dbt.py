"""dbt: the runner (in-process, on the build copy of the warehouse), the night's build plan (only
what the night's loads and the project's changes reach), and the record of the manifest the
warehouse was built with (audit.dbt_manifest).

The dbt profile (dbt_project/profiles.yml) and macros/get_where_subquery.sql read their settings
from environment variables: `Settings.to_dbt_env` gives them, and `_set_env` puts them in place
before dbt runs.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from flows.quality.results import GateFailed
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.warehouse import backend, runlog
from flows.warehouse.schema import PARSE_MACROS

FULL = ["--full-refresh"]


def _set_env(settings: Settings, build_db: Path | None = None, tests_from_load: str = "") -> None:
    """Put the settings dbt reads (`Settings.to_dbt_env`) in the environment. Done on the
    flow's own thread: the environment is not safe to write beside other threads."""
    os.environ.update(settings.to_dbt_env(build_db, tests_from_load))


def invoke_dbt(
    command: list[str],
    settings: Settings,
    *,
    build_db: Path | None = None,
    work_dir: Path | None = None,
    tests_from_load: str = "",
    manifest=None,
):
    """dbt in-process on a build copy of the warehouse (never the published file): the
    settings' build copy, or `build_db`; its target and logs in `work_dir` (default the build
    folder). The file is released when dbt is done. `tests_from_load` limits the tests of
    incremental models, and of views that say `tested_by_load`, to loads from that one on
    (macros/get_where_subquery.sql). `manifest`, from an earlier `parse`, spares dbt parsing the
    project again."""
    _set_env(settings, build_db, tests_from_load)
    return _run_dbt(command, work_dir or settings.build_dir, settings, manifest)


def profiles_dir(settings: Settings, work_dir: Path) -> Path:
    """Where dbt finds its profile: the project's (the build copy, from the environment), or on
    the lake one written for this install into `work_dir` (lake.dbt_output: the lake attached
    as the target database, the extensions from their wheels), owner-only."""
    if settings.backend != "ducklake":
        return settings.dbt_project_dir
    import yaml

    from flows.warehouse import lake

    output = lake.dbt_output(settings, threads=settings.dbt_threads)
    output["settings"] = {
        **output["settings"],
        "memory_limit": settings.duckdb_memory_limit,
        "disabled_optimizers": "common_subplan",  # as dbt_project/profiles.yml says why
    }
    folder = work_dir / "dbt_profile"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    profiles = {"bluelight": {"target": "lake", "outputs": {"lake": output}}}
    # Owner-only from its first byte: the catalog's address may hold a password.
    fd = os.open(folder / "profiles.yml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as profile:
        os.fchmod(fd, 0o600)
        profile.write(yaml.safe_dump(profiles))
    return folder


def _run_dbt(command: list[str], work_dir: Path, settings: Settings, manifest=None):
    """dbt in-process, with the environment `_set_env` set."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    project = settings.dbt_project_dir
    _forget_another_projects_parse(project, work_dir / "dbt_target")
    try:
        return dbtRunner(manifest=manifest).invoke(
            [
                *command,
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(profiles_dir(settings, work_dir)),
                "--target-path",
                str(work_dir / "dbt_target"),
                "--log-path",
                str(work_dir / "dbt_logs"),
                "--no-use-colors",
                "--quiet",
            ]
        )
    finally:
        # The profile keeps the file open for the whole build (reopening it for every model
        # and test cost a third of the build); release it so the flow and readers can open it.
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()


def _forget_another_projects_parse(project: Path, target: Path) -> None:
    """dbt keeps its parse in the target folder (partial_parse.msgpack) and takes unchanged
    nodes from it as they were, paths included: after the project moved (a release installed
    in another folder, an upgrade), a seed would be read from where the old project was. The
    parse is kept only for the project that made it (`project_root` beside it)."""
    marker = target / "project_root"
    if marker.exists() and marker.read_text() == str(project):
        return
    target.mkdir(parents=True, exist_ok=True)
    (target / "partial_parse.msgpack").unlink(missing_ok=True)
    marker.write_text(str(project))


def start_parse(pool: ThreadPoolExecutor, settings: Settings) -> Future:
    """Parse the dbt project in a thread of `pool` (about 2 s, overlapping the night's first
    stages); the future gives the manifest, or None to let the build parse and say what is
    wrong."""
    _set_env(settings)  # here, not in the thread

    def parse():
        result = _run_dbt(["parse"], settings.build_dir, settings)
        return result.result if result.success else None

    return pool.submit(parse)


def project_fingerprint(settings: Settings) -> str:
    """What dbt's state:modified does not see: the project's vars (dbt_project.yml) and the raw
    parse macros the accepted tables staging reads were parsed with (a change parses them all
    again: flows/warehouse/schema.py)."""
    text = (settings.dbt_project_dir / "dbt_project.yml").read_text() + PARSE_MACROS
    return hashlib.sha256(text.encode()).hexdigest()


def plan(settings: Settings, loaded: list[str], manifest) -> tuple[list[str], str]:
    """A night's `dbt build` arguments, and why. It builds the models (and tests) downstream of
    the sources it loaded and whatever changed in the dbt project since the build the
    warehouse holds (dbt's state:modified, against the manifest kept in audit.dbt_manifest); the
    rest stays as that build left it. Everything, in full, when a change reaches an incremental
    model (its history would keep the old logic) or the fingerprint differs; everything when the
    warehouse records no build."""
    with backend.build(settings, read_only=True) as con:
        saved = con.execute(
            "select manifest, project_fingerprint from audit.dbt_manifest"
        ).fetchone()
    if saved is None:
        return [], "no dbt build recorded in the warehouse: everything"
    if saved[1] != project_fingerprint(settings):
        return FULL, "dbt_project.yml or the parse macros changed: everything, in full"
    state = settings.build_dir / "dbt_state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "manifest.json").write_text(saved[0])
    changed = _run_dbt(
        ["ls", "--resource-type", "model", "--output", "name", "--state", str(state)]
        + ["--select", "state:modified+,config.materialized:incremental"],
        settings.build_dir,
        settings,
        manifest,
    )
    if changed.exception is not None:
        raise GateFailed(
            f"dbt could not compare the project with the last build: {changed.exception}"
        )
    if changed.result:
        return FULL, f"{', '.join(changed.result)} changed since the last build: all, in full"
    sources = [f"source:{SOURCES[name].kind}.{name}+" for name in sorted(set(loaded))]
    selection = [*sources, "state:modified+"]
    return ["--select", *selection, "--state", str(state)], " ".join(selection)


def build(
    settings: Settings, run_id: str, full_refresh: bool, loaded: list[str], manifest=None
) -> dict[str, int]:
    """`dbt build` in-process on the build copy; returns counts by status, with the models it
    built under `models_built` (none: the night changed no mart), or raises GateFailed.
    `full_refresh` rebuilds everything, the incremental models from raw too; otherwise what
    `plan` says, and the incremental models' tests look only at this run's loads (their ids
    start with the run id and sort after every earlier run's, as the models' own bookmarks
    assume; macros/get_where_subquery.sql). `manifest` is the project as `start_parse` parsed
    it."""
    _set_env(settings, tests_from_load=run_id)  # the macro tests every row on a full refresh
    if full_refresh:
        arguments, why = FULL, "a full refresh: everything, in full"
    else:
        arguments, why = plan(settings, loaded, manifest)
    runlog.logger().info("dbt build: %s", why)
    result = _run_dbt(["build", *arguments], settings.build_dir, settings, manifest)
    if result.exception is not None:
        raise GateFailed(
            f"dbt build could not run: {type(result.exception).__name__}: {result.exception!r}"
        )
    counts: dict[str, int] = {"models_built": 0}
    failed = []
    for node_result in result.result.results:
        status = str(node_result.status)
        counts[status] = counts.get(status, 0) + 1
        if node_result.node.resource_type == "model" and status == "success":
            counts["models_built"] += 1
        if status in ("error", "fail"):
            failed.append(f"{node_result.node.name}: {node_result.message}")
    if failed or not result.success:
        raise GateFailed("dbt build failed: " + "; ".join(failed[:5]))
    record_manifest(settings, run_id)
    return counts


def record_manifest(settings: Settings, run_id: str) -> None:
    """Keep the manifest of the build just made in audit.dbt_manifest, for the next `plan`."""
    manifest = (settings.build_dir / "dbt_target" / "manifest.json").read_text()
    with backend.build(settings) as con:
        con.execute("begin")
        con.execute("delete from audit.dbt_manifest")
        con.execute(
            "insert into audit.dbt_manifest values (?, ?, ?, ?)",
            [run_id, datetime.now(), project_fingerprint(settings), manifest],
        )
        con.execute("commit")
