"""The verbs that write documents for readers outside Bluelight: `pack`, a bid's evidence pack,
every bid's (`--all`) or the panel report across bids (`--portfolio`), as HTML or PDF, from the
published warehouse or a kept version (dashboard/pack/), on the whole warehouse or `--within` a
reader's organisations. Each document is an export: logged in the access log, with the sha256 of
its bytes and the account that ran the command, before it is written."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flows.security import access_log, roles
from flows.settings import Settings

if TYPE_CHECKING:  # the command line imports DuckDB only for the verb that runs
    from flows.warehouse.backend import LakeVersion

    # What a pack is read from: a warehouse file (the published one or a kept version), or a
    # published version of the lake, read pinned to its snapshot (dashboard/warehouse.py).
    Version = Path | LakeVersion

# Streamlit's warnings about running without `streamlit run`: the dashboard's queries are used
# here without a session, as the benchmark uses them.
QUIET = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
    "streamlit.runtime.state.session_state_proxy",
)
BAR = 20  # characters in the progress bar of `--all`


def pack(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import backend

    chosen = [bool(args.bid), args.all, args.portfolio]
    if sum(chosen) != 1:
        print("Name one BID, or --all, or --portfolio.", file=sys.stderr)
        return 2
    if args.scope and not args.portfolio:
        print("--scope is for --portfolio.", file=sys.stderr)
        return 2
    if not backend.has_published(settings):
        print(
            f"No warehouse at {backend.where(settings)}: run `bluelight run` first.",
            file=sys.stderr,
        )
        return 1
    path = _version(settings, args.version)
    if path is None:
        return 2
    refusal = _refusal(settings, path)
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    for name in QUIET:  # a filter: Streamlit sets its loggers' levels as it makes them
        logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.ERROR)
    unknown = _unknown_organisations(args.within, path, settings)
    if unknown:
        print(unknown, file=sys.stderr)
        return 2
    try:
        with _within(args.within):
            if args.all:
                return _write_all(args, path, settings)
            if args.portfolio:
                return _write_portfolio(args, path, settings)
            return _write(args, path, settings)
    except access_log.AccessLogBroken as broken:
        print(f"Nothing written: the access log cannot take the export. {broken}", file=sys.stderr)
        return 1


def _version(settings: Settings, run_id: str | None) -> Version | None:
    """The version a pack is read from: the published warehouse, or the version `run_id`
    published (a kept file, or on the lake its published snapshot); None, having said which
    are kept, when it is not."""
    from flows.warehouse import backend, publish

    if backend.on_lake(settings):
        kept = backend.versions(settings)
        if run_id is None:
            return kept[-1]
        found = [v for v in kept if v.run_id == run_id]
        if found:
            return found[-1]
        listed = ", ".join(v.run_id for v in kept)
    else:
        if run_id is None:
            return settings.published_db
        path = publish.version_path(settings.published_db, run_id)
        if path.exists():
            return path
        kept_files = publish.version_files(settings.published_db)
        listed = ", ".join(publish.run_id_of_version(p) for p in kept_files)
    print(
        f"No kept version {run_id}. Kept: {listed or 'none'} (`bluelight versions`).",
        file=sys.stderr,
    )
    return None


def _refusal(settings: Settings, version: Version) -> str | None:
    """Why this code must not read `version`, or None."""
    from flows.warehouse import backend, migrations

    if not backend.on_lake(settings):
        return migrations.refusal(version)
    with backend.open_version(settings, version) as con:
        return migrations.too_new(backend.where(settings), migrations.recorded(con))


def _codes(organisations: str) -> frozenset[str]:
    return frozenset(c.strip() for c in organisations.split(",") if c.strip())


def _within(organisations: str | None) -> contextlib.AbstractContextManager:
    """The warehouse read within the organisations named (codes separated by commas), or whole."""
    from dashboard import warehouse

    if organisations is None:
        return contextlib.nullcontext()
    return warehouse.within(roles.Scope(_codes(organisations), False))


def _unknown_organisations(
    organisations: str | None, path: Version, settings: Settings
) -> str | None:
    """What to say of --within when it names no organisation the warehouse at `path` lists."""
    import duckdb

    from flows.warehouse import backend

    if organisations is None:
        return None
    with backend.open_version(settings, path) as con:
        try:
            rows = con.execute(
                "select distinct organisation_code, organisation_name from marts.dim_organisations"
            ).fetchall()
        except duckdb.CatalogException:  # a version from before organisations were listed
            rows = []
    known = dict(rows)
    codes = _codes(organisations)
    if codes and codes <= set(known):
        return None
    listed = ", ".join(f"{c} ({n})" for c, n in sorted(known.items())) or "none"
    return (
        f"--within {organisations}: no organisation {', '.join(sorted(codes - set(known)))} "
        f"in the warehouse {path}. Organisations: {listed}."
    )


def _who() -> str:
    """The account running the command, as the operating system knows it, and whoever ran it
    through sudo."""
    import pwd

    account = pwd.getpwuid(os.geteuid()).pw_name
    sudo = os.environ.get("SUDO_USER")
    by = f", by {sudo} through sudo" if sudo and sudo != account else ""
    return f"{account} (command line{by})"


def _document(html: str, form: str) -> bytes:
    from dashboard.pack import render

    return render.pdf(html) if form == "pdf" else html.encode("utf-8")


def _within_logged() -> list[str] | None:
    """The organisations the document was read within, for the log; None: the whole warehouse."""
    from dashboard import warehouse

    scope = warehouse.scope()
    return None if scope == roles.EVERYTHING else sorted(scope.organisations or ())


def _export(settings: Settings, made: bytes, out: Path, bid: str | None, form: str) -> None:
    """Log the document as an export by the account running the command, then write it."""
    access_log.append(
        settings.access_log,
        "export",
        _who(),
        page="bluelight pack",
        bid=bid,
        sha256=hashlib.sha256(made).hexdigest(),
        detail={"file": str(out.resolve()), "format": form, "within": _within_logged()},
    )
    out.write_bytes(made)


def _write(args: argparse.Namespace, path: Version, settings: Settings) -> int:
    from dashboard.pack import gather, render

    try:
        figures = gather.gather(args.bid, _shown(settings, path))
    except gather.NoSuchBid as missing:
        within = f" within the access of {args.within}" if args.within is not None else ""
        print(
            f"No bid {missing.bid_id} in the warehouse {path}{within}. Bids{within}: "
            f"{', '.join(missing.known) or 'none'}.",
            file=sys.stderr,
        )
        return 2
    out = args.out or Path(f"pack-{args.bid}-{figures.version}.{args.format}")
    _export(settings, _document(render.html(figures), args.format), out, args.bid, args.format)
    print(f"Evidence pack of {args.bid} from version {figures.version} written to {out}")
    return 0


def _write_all(args: argparse.Namespace, path: Version, settings: Settings) -> int:
    """Every bid's pack into one folder, a line with a progress bar for each pack written."""
    from dashboard import queries
    from dashboard.pack import gather, render

    version = _run_of(path)
    folder = args.out or Path(f"packs-{version}")
    folder.mkdir(parents=True, exist_ok=True)
    shown = _shown(settings, path)
    bids = list(queries.bids(None, path=shown).bid_id)
    for done, bid_id in enumerate(bids, start=1):
        start = time.perf_counter()
        out = folder / f"pack-{bid_id}-{version}.{args.format}"
        made = _document(render.html(gather.gather(bid_id, shown)), args.format)
        _export(settings, made, out, bid_id, args.format)
        filled = BAR * done // len(bids)
        print(
            f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{len(bids)} {bid_id} written to "
            f"{out} ({time.perf_counter() - start:.1f} s)",
            flush=True,
        )
    print(f"{len(bids)} evidence packs from version {version} written to {folder}")
    return 0


def _write_portfolio(args: argparse.Namespace, path: Version, settings: Settings) -> int:
    """The panel report of every bid in --scope (or all), compared with the kept version
    published before this one."""
    from dashboard.pack import gather, render

    version, earlier = _earlier_version(path, settings)
    try:
        report = gather.gather_portfolio(
            args.scope, _shown(settings, path), earlier and _shown(settings, earlier)
        )
    except gather.NoSuchBid as missing:
        print(
            f"No bids in {missing.bid_id!r} in the warehouse {path}. Counties: "
            f"{', '.join(missing.known) or 'none'}.",
            file=sys.stderr,
        )
        return 2
    within = re.sub(r"[^a-z0-9]+", "-", (args.scope or "all").lower()).strip("-")
    out = args.out or Path(f"panel-{within}-{version}.{args.format}")
    _export(settings, _document(render.portfolio(report), args.format), out, None, args.format)
    compared = f", compared with {report.compared_with}" if report.compared_with else ""
    print(
        f"Panel report of {len(report.bids)} bid(s) from version {version}{compared} "
        f"written to {out}"
    )
    return 0


def _shown(settings: Settings, version: Version):
    """`version` as the dashboard's queries read it (dashboard/warehouse.py's target): the
    file, or the lake pinned to the version's snapshot."""
    from flows.warehouse.backend import LakeVersion

    if isinstance(version, LakeVersion):
        from dashboard.lake_source import Lake

        return Lake(settings, version.snapshot_id)
    return version


def _run_of(version: Version) -> str:
    """The run that published `version`."""
    from flows.warehouse import publish
    from flows.warehouse.backend import LakeVersion

    if isinstance(version, LakeVersion):
        return version.run_id
    return publish.publishing_run(version)[0]


def _earlier_version(path: Version, settings: Settings) -> tuple[str, Version | None]:
    """The run that published `path`, and the version published just before it, if any: a kept
    file, or on the lake a published snapshot."""
    from flows.warehouse import backend, publish

    version = _run_of(path)
    if backend.on_lake(settings):
        before = [v for v in backend.versions(settings) if v.run_id < version]
    else:
        published = settings.published_db
        before = [
            p for p in publish.version_files(published) if publish.run_id_of_version(p) < version
        ]
    return version, (before[-1] if before else None)
