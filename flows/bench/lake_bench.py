"""`bluelight bench --backend ducklake`: a tier's nightly run on a DuckLake set against the same
run on the file backend.

One inbox is written and linked into two data directories, one per backend; on each, the full
run (`bluelight run`, its own process) and two nights on top, as `bluelight bench` runs them on
the file. The file's side is skipped when a result of the file bench is given (its JSON). The
lake needs a catalog: `BLUELIGHT_LAKE_CATALOG` and `BLUELIGHT_LAKE_DATA_PATH` when set (an empty
lake: nothing published on it yet), else a PostgreSQL of the bench's own, made in the system's
temporary folder (flows/warehouse/catalog_server.py: durable, as a user's catalog is) and removed
after. What is kept: each run's wall time, stage seconds and peak memory, the file warehouse's
size and the lake's Parquet (live at the published snapshot, and all written under the data
path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from flows.bench.bench import _one_more_day, _run
from flows.bench.lake_report import LakeReport
from flows.bench.report import TIERS, Report, commit, disk
from flows.settings import Settings


class LakeBenchRefused(RuntimeError):
    """The lake given is not one the bench can use: the message says why."""


def _link_tree(source: Path, target: Path) -> None:
    """`target` as a copy of `source` whose files are hard links: the run clears its inbox, so
    each backend needs its own, and the files are never written in place."""
    shutil.copytree(source, target, copy_function=os.link)


def _backend_runs(
    home: Path, scale: float, seed: int, env: dict, progress, size, nights: int = 2
) -> Report:
    """The full run, its warehouse's size (`size()`, in MB), then `nights` nights on top, on the
    inbox already in `home`."""
    report = Report("", scale)
    label = env.get("BLUELIGHT_BACKEND", "file")
    progress(f"[{label}] the nightly flow (bluelight run)")
    report.pipeline, record = _run(home, env)
    report.stages = record["stage_seconds"]
    report.warehouse_mb = size()
    for day in range(1, nights + 1):
        progress(f"[{label}] night {day} on top: a day's incidents")
        rows = _one_more_day(Settings(home=home).inbox, scale, seed, day)
        measured, record = _run(home, env)
        report.nights.append((measured, record["stage_seconds"], rows))
    return report


@contextlib.contextmanager
def _catalog(home: Path):
    """The lake's settings for the runs (environment variables): the ones set, or a catalog of
    the bench's own with the data path in `home`; and what the catalog is, for the report."""
    catalog = os.environ.get("BLUELIGHT_LAKE_CATALOG")
    data_path = os.environ.get("BLUELIGHT_LAKE_DATA_PATH")
    if catalog and data_path:
        _refuse_used(catalog, Path(data_path))
        yield _lake_env(catalog, Path(data_path)), "the catalog of BLUELIGHT_LAKE_CATALOG"
        return
    from flows.warehouse import catalog_server

    # In the system's temporary folder: as root the server runs as `postgres`, which may not
    # reach the data directory.
    directory = Path(tempfile.mkdtemp(prefix="bluelight-bench-catalog-")) / "catalog"
    directory.parent.chmod(0o755)
    try:
        with catalog_server.catalog_for_run(directory) as server:
            version = server.psql("show server_version").strip()
            catalog = f"PostgreSQL {version} on this machine, started by the bench"
            yield _lake_env(server.catalog, home / "lake_data"), catalog
    finally:
        shutil.rmtree(directory.parent, ignore_errors=True)


def _lake_env(catalog: str, data_path: Path) -> dict[str, str]:
    return {
        "BLUELIGHT_BACKEND": "ducklake",
        "BLUELIGHT_LAKE_CATALOG": catalog,
        "BLUELIGHT_LAKE_DATA_PATH": str(data_path),
    }


def _refuse_used(catalog: str, data_path: Path) -> None:
    from flows.warehouse import backend

    settings = Settings(
        Path("."), backend="ducklake", lake_catalog=catalog, lake_data_path=data_path
    )
    if backend.newest(settings) is not None:
        raise LakeBenchRefused(
            "The lake of BLUELIGHT_LAKE_CATALOG has published versions: the bench needs an empty "
            "lake (a new database and data path), or unset both variables for a catalog of its own."
        )


def _lake(env: dict) -> Settings:
    return Settings(
        Path("."),
        backend="ducklake",
        lake_catalog=env["BLUELIGHT_LAKE_CATALOG"],
        lake_data_path=Path(env["BLUELIGHT_LAKE_DATA_PATH"]),
    )


def _live_parquet_mb(env: dict) -> float:
    """The Parquet the lake's published snapshot reads, in MB."""
    from flows.warehouse import backend

    with backend.read(_lake(env)) as con:
        live = con.execute(
            "select coalesce(sum(file_size_bytes), 0) from ducklake_table_info('lake')"
        ).fetchone()[0]
    return live / 1e6


def _disk_mb(folder: Path) -> float:
    """Every file under `folder` (older snapshots' kept too), in MB."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def run_lake_bench(
    tier: str,
    home: Path,
    seed: int = 2014,
    progress=print,
    file_result: Report | None = None,
    scale: float | None = None,
    years: int | None = None,
    nights: int = 2,
) -> LakeReport:
    """The tier (or `scale` and `years` given) on both backends, in `home`: the full run, then
    `nights` nights on top (two, as the file bench runs)."""
    from flows.demo.data import write_demo_inbox

    tier_scale, tier_years = TIERS[tier]
    scale, years = scale or tier_scale, years or tier_years
    if home.exists():
        shutil.rmtree(home)
    file_home, lake_home = home / "file", home / "ducklake"
    progress(f"writing the {tier} tier's inbox (scale {scale:g}) to {file_home / 'inbox'}")
    start = time.perf_counter()
    counts = write_demo_inbox(
        Settings(home=file_home).inbox, seed, scale, lambda *_: None, incident_years=years
    )
    report = LakeReport(tier, scale, years, rows=sum(counts.values()), commit=commit())
    report.generate_s = time.perf_counter() - start
    report.disk = disk(home)
    _link_tree(Settings(home=file_home).inbox, Settings(home=lake_home).inbox)
    # The catalog first: a PostgreSQL that cannot start fails the bench before the file's runs.
    with _catalog(lake_home) as (env, catalog):
        report.catalog = catalog
        report.file = file_result or _backend_runs(
            file_home,
            scale,
            seed,
            {},
            progress,
            lambda: Settings(home=file_home).published_db.stat().st_size / 1e6,
            nights,
        )
        if file_result is None:
            report.load["file"] = f"{os.getloadavg()[0]:.1f}"
        report.lake = _backend_runs(
            lake_home, scale, seed, env, progress, lambda: _live_parquet_mb(env), nights
        )
        report.lake_disk_mb = _disk_mb(Path(env["BLUELIGHT_LAKE_DATA_PATH"]))
        report.load["ducklake"] = f"{os.getloadavg()[0]:.1f}"
    return report
