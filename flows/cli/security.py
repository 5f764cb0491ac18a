"""The verb for auditors and operators about who used the dashboard: `access-log` (its entries,
or whether their hash chain is whole)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from flows.settings import Settings

COLUMNS = ("n", "at (UTC)", "event", "who", "page", "bid", "rows", "file sha256", "detail")


def access_log(args: argparse.Namespace, settings: Settings) -> int:
    """Print the entries (from `--since`), or with `--verify` whether the chain is whole: exit
    status 1 when it is broken, naming the line."""
    from flows.security import access_log as log

    path = settings.access_log
    if args.verify:
        return _verify(log.verify(path), path, args.json)
    found = log.entries(path, since=args.since)
    if args.json:
        for _number, entry in found:
            if entry is not None:
                print(json.dumps(entry))
        return 0
    since = f" since {args.since}" if args.since else ""
    if not path.exists():
        print(f"No access log at {path} yet.")
    elif not found:
        print(f"Access log: {path}: no entries{since}.")
    else:
        print(f"Access log: {path} ({sum(e is not None for _, e in found)} entries{since})\n")
        _table(found)
    return 0


def _verify(verdict, path, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"path": str(path), "whole": verdict.whole, **asdict(verdict)}))
    elif verdict.whole and verdict.count == 0 and verdict.tip is None:
        print(f"Whole: nothing has been logged yet at {path}.")
    elif verdict.whole:
        print(
            f"Whole: {verdict.count} entries in {path}, the last with hash "
            f"{verdict.last_hash}{_tip(verdict.tip, verdict.count)}."
        )
    else:
        print(
            f"Broken at line {verdict.line} of {path}: {verdict.reason}. The {verdict.count} "
            "entries before it chain whole.",
            file=sys.stderr,
        )
    return 0 if verdict.whole else 1


def _table(found: list) -> None:
    rows = [COLUMNS]
    for number, entry in found:
        if entry is None:
            rows.append((str(number), "", "(not an entry: run --verify)", "", "", "", "", "", ""))
            continue
        rows.append(
            (
                str(entry.get("n", "")),
                str(entry.get("at", ""))[:19].replace("T", " "),
                entry.get("event") or "",
                entry.get("who") or "",
                entry.get("page") or "",
                entry.get("bid") or "",
                _count(entry.get("rows")),
                (entry.get("sha256") or "")[:12],
                _detail(entry.get("detail")),
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(COLUMNS))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _count(rows) -> str:
    if rows is None:
        return ""
    return f"{rows:,}" if isinstance(rows, int) else str(rows)


def _detail(detail) -> str:
    if detail is None:
        return ""
    return detail if isinstance(detail, str) else json.dumps(detail)


def _tip(tip: dict | None, count: int) -> str:
    if tip is None:
        return "; no tip file beside it, so the newest entries could have been deleted unseen"
    if tip["count"] == count:
        return f"; its tip agrees ({count} entries)"
    return f"; its tip records {tip['count']} (an append stopped before updating it)"
