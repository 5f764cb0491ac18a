"""A reader on another machine, for tests/test_lake.py: a process of its own that knows only the
lake's catalog address and data path (`BLUELIGHT_LAKE_CATALOG`, `BLUELIGHT_LAKE_DATA_PATH`) and
attaches the lake read-only.

    python tests/lake_reader.py serve        answers each line of standard input, a query, with
                                             its rows as one JSON line ({"error": ...} if it fails)
    python tests/lake_reader.py poll SQL STOP    runs SQL again and again until the file STOP
                                             exists, then prints one JSON line: how many reads,
                                             the errors, and each distinct result in the order
                                             first seen
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flows.settings import Settings
from flows.warehouse import lake


def _attached():
    con = lake.connect()
    lake.attach(con, Settings.from_env(), read_only=True)
    return con


def _rows(con, sql: str) -> list:
    return [list(row) for row in con.execute(sql).fetchall()]


def serve() -> None:
    con = _attached()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            answer = {"rows": _rows(con, line.strip())}
        except Exception as error:  # the test reads the error, the reader goes on
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer, default=str), flush=True)


def poll(sql: str, stop: Path) -> None:
    con = _attached()
    print(json.dumps({"ready": True}), flush=True)
    reads, errors, seen = 0, [], []
    while not stop.exists():
        try:
            result = _rows(con, sql)
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
            continue
        finally:
            reads += 1
        if result not in seen:
            seen.append(result)
    print(json.dumps({"reads": reads, "errors": errors, "seen": seen}, default=str), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        poll(sys.argv[2], Path(sys.argv[3]))
