"""The verbs that write documents for readers outside Bluelight: `pack`, a bid's evidence pack
from the published warehouse or a kept version (dashboard/pack/)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from flows.settings import Settings

# Streamlit's warnings about running without `streamlit run`: the dashboard's queries are used
# here without a session, as the benchmark uses them.
QUIET = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
    "streamlit.runtime.state.session_state_proxy",
)


def pack(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import publish

    if args.format != "html":
        print(
            f"--format {args.format}: packs are written as HTML only for now (--format html).",
            file=sys.stderr,
        )
        return 2
    if not settings.published_db.exists():
        print(
            f"No warehouse at {settings.published_db}: run `bluelight run` first.", file=sys.stderr
        )
        return 1
    path = settings.published_db
    if args.version is not None:
        path = publish.version_path(settings.published_db, args.version)
        if not path.exists():
            kept = publish.version_files(settings.published_db)
            print(
                f"No kept version {args.version}. Kept: "
                f"{', '.join(publish.run_id_of_version(p) for p in kept) or 'none'} "
                "(`bluelight versions`).",
                file=sys.stderr,
            )
            return 2
    return _write(args, path)


def _write(args: argparse.Namespace, path: Path) -> int:
    for name in QUIET:  # a filter: Streamlit sets its loggers' levels as it makes them
        logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.ERROR)
    from dashboard.pack import gather, render

    try:
        figures = gather.gather(args.bid, path)
    except gather.NoSuchBid as missing:
        print(
            f"No bid {missing.bid_id} in the warehouse {path}. Bids: "
            f"{', '.join(missing.known) or 'none'}.",
            file=sys.stderr,
        )
        return 2
    out = args.out or Path(f"pack-{args.bid}-{figures.version}.html")
    out.write_text(render.html(figures), encoding="utf-8")
    print(f"Evidence pack of {args.bid} from version {figures.version} written to {out}")
    return 0
