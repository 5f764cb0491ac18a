"""The access log: every sign-in, refusal, page view, export and upload (who, when, page, bid,
rows exported, file sha256), in a file an auditor can check has not been edited.

One JSON object a line, in `Settings.access_log` (default `access/access.jsonl` in the data
directory): outside the published warehouse, which each night replaces, so republishing never
touches it. Each entry holds its number `n`, the sha256 of the line before it exactly as written
(`prev`; the first entry, of GENESIS) and the sha256 of its own content (`hash`), so verify()
names the first line edited, deleted, inserted or moved. The tip file beside the log keeps the
newest entry's number and hash, so deleting the newest entries shows too. What the chain cannot
show is in docs/security.md.

Appends from several dashboard processes and threads take turns under an exclusive fcntl lock
on the log: read the last line, append the next one, fsync, update the tip.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

EVENTS = ("sign-in", "refusal", "page-view", "export", "upload")
GENESIS = hashlib.sha256(b"bluelight access log").hexdigest()
# An entry's fields in the order they are written; `hash` follows them.
FIELDS = ("n", "at", "event", "who", "page", "bid", "rows", "sha256", "detail", "prev")


class AccessLogBroken(RuntimeError):
    """The log's last line cannot be chained to: nothing is appended until someone looks."""


@dataclass(frozen=True)
class Verdict:
    """What verify() found: the chain whole with `count` entries, or broken at `line`."""

    count: int  # entries read whole (those before the break, when broken)
    last_hash: str | None  # `hash` of the last entry read whole
    line: int | None = None  # the first broken line (1-based)
    reason: str | None = None  # why it is broken
    tip: dict | None = None  # the tip file's {"count", "hash"}, when there is one

    @property
    def whole(self) -> bool:
        return self.line is None


def tip_path(path: Path) -> Path:
    """The tip file beside the log: the newest entry's number and hash."""
    return path.with_name(path.name + ".tip")


def append(
    path: Path,
    event: str,
    who: str,
    *,
    page: str | None = None,
    bid: str | None = None,
    rows: int | None = None,
    sha256: str | None = None,
    detail: object = None,
) -> dict:
    """Append one entry (`who`: the user's e-mail or subject) and return it, as written."""
    if event not in EVENTS:
        raise ValueError(f"unknown access event {event!r}: one of {', '.join(EVENTS)}")
    if not who:
        raise ValueError("an access entry needs who: the user's e-mail or subject")
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
        last = _last_line(fd, path)
        _check_tip(path, last)
        entry = {
            "n": json.loads(last)["n"] + 1 if last else 1,
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "event": event,
            "who": who,
            "page": page,
            "bid": bid,
            "rows": rows,
            "sha256": sha256,
            "detail": detail,
            "prev": _sha256(last) if last else GENESIS,
        }
        entry["hash"] = _sha256(_dumps(entry))
        _write_all(fd, (_dumps(entry) + "\n").encode("ascii"))
        os.fsync(fd)
        if entry["n"] == 1:
            _fsync_dir(path.parent)
        _write_tip(path, entry["n"], entry["hash"])
    finally:
        os.close(fd)
    return entry


def _check_tip(path: Path, last: str | None) -> None:
    """Refuse to append when the log's newest entry is not the one its tip records: the newest
    entries (or the whole log) were deleted, and an append would hide it."""
    tip = read_tip(path)
    if tip is None or not tip["count"]:
        return
    entry = json.loads(last) if last else {}
    if (entry.get("n"), entry.get("hash")) != (tip["count"], tip["hash"]):
        raise AccessLogBroken(
            f"{path}: its newest entry is not the one its tip records (entry {tip['count']}): "
            "entries were deleted or changed; nothing more is appended until someone has "
            "looked (`bluelight access-log --verify`)"
        )


def verify(path: Path) -> Verdict:
    """Walk the chain from the first line: the first broken line and why, or whole."""
    tip = read_tip(path)
    if not path.exists():
        if tip and tip["count"]:
            reason = f"the log is missing, but its tip records {tip['count']} entries"
            return Verdict(0, None, 1, reason, tip)
        return Verdict(0, None, tip=tip)
    prev, last_hash, count = GENESIS, None, 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            problem = _problem(raw, number, prev)
            if problem is None and tip and number == tip["count"]:
                problem = _against_tip(json.loads(raw)["hash"], tip)
            if problem:
                return Verdict(count, last_hash, number, problem, tip)
            prev, count = _sha256(raw[:-1].decode("ascii")), number
            last_hash = json.loads(raw)["hash"]
    if tip and count < tip["count"]:
        reason = (
            f"the log ends at entry {count}, but its tip records {tip['count']}: the newest "
            "entries were deleted"
        )
        return Verdict(count, last_hash, count + 1, reason, tip)
    return Verdict(count, last_hash, tip=tip)


def entries(path: Path, since: date | None = None) -> list[tuple[int, dict | None]]:
    """Each line's number and entry (None for a line that is not one), from `since` (UTC)."""
    if not path.exists():
        return []
    found = []
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            try:
                entry = json.loads(raw)
            except ValueError:
                found.append((number, None))
                continue
            if since is None or str(entry.get("at", ""))[:10] >= since.isoformat():
                found.append((number, entry))
    return found


def read_tip(path: Path) -> dict | None:
    """The tip file's {"count", "hash"}, or None when there is none (or it cannot be read)."""
    try:
        tip = json.loads(tip_path(path).read_text())
        return {"count": int(tip["count"]), "hash": str(tip["hash"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _problem(raw: bytes, number: int, prev: str) -> str | None:
    """Why line `number` (as read, with its end of line) breaks the chain, or None."""
    if not raw.endswith(b"\n"):
        return "the line is cut short (no end of line): the log was truncated"
    try:
        text = raw[:-1].decode("ascii")
        entry = json.loads(text)
    except ValueError:
        return "the line is not an entry: it was edited or cut short"
    if not isinstance(entry, dict) or tuple(entry) != (*FIELDS, "hash"):
        return "the line does not have an entry's fields: it was edited"
    if entry["hash"] != _sha256(_dumps({k: entry[k] for k in FIELDS})):
        return "its content does not match its hash: the entry was edited"
    if text != _dumps(entry):
        return "the line is not as it was written: it was edited"
    if entry["n"] != number:
        return (
            f"it holds entry {entry['n']} where entry {number} belongs: entries were deleted, "
            "inserted or moved"
        )
    if entry["prev"] != prev:
        if number == 1:
            return "it does not start the chain: the entries before it were deleted"
        return (
            f"it does not follow line {number - 1}: that line was changed, or lines were "
            "deleted or inserted between them"
        )
    return None


def _against_tip(last_hash: str, tip: dict) -> str | None:
    if last_hash == tip["hash"]:
        return None
    return f"its hash is not the one the tip recorded for entry {tip['count']}: it was replaced"


def _last_line(fd: int, path: Path) -> str | None:
    """The log's last line, without its end of line; None for an empty log. Raises
    AccessLogBroken when that line is cut short or is not an entry."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    if os.pread(fd, 1, size - 1) != b"\n":
        raise AccessLogBroken(f"{path} ends in a line cut short: `bluelight access-log --verify`")
    tail, start = b"", size
    while start > 0 and tail.rfind(b"\n", 0, len(tail) - 1) < 0:
        read_from = max(0, start - 65536)
        tail = os.pread(fd, start - read_from, read_from) + tail
        start = read_from
    line = tail[tail.rfind(b"\n", 0, len(tail) - 1) + 1 : -1]
    try:
        json.loads(line)["n"]
        return line.decode("ascii")
    except (ValueError, KeyError, TypeError) as error:
        raise AccessLogBroken(
            f"{path}: its last line is not an entry ({error}): `bluelight access-log --verify`"
        ) from error


def _write_tip(path: Path, count: int, last_hash: str) -> None:
    """Replace the tip file in one step (the lock on the log is held)."""
    tip = tip_path(path)
    draft = tip.with_name(tip.name + ".draft")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        _write_all(fd, (json.dumps({"count": count, "hash": last_hash}) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(draft, tip)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dumps(entry: dict) -> str:
    """An entry as its line holds it: compact, ASCII, keys in the order given."""
    return json.dumps(entry, separators=(",", ":"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()
