"""Receiving a file from a person (the dashboard's Upload page): checked against its source's
contract, judged at once by the very code of `bluelight validate`, and, unless that verdict is
`reject`, placed in `inbox/<source>/` for the next night, with who sent it kept beside it.

Before anything judges it, a file must name a source (or be named as that source's template is,
`<source>.csv`, ...), be of a type the source's contract takes (`Source.formats`) and be within
the Upload page's size limit (flows/sources/limits.py `UPLOAD_LIMIT_MB`); a file that is not is
refused with that one problem. The judging runs on a copy in a temporary folder. A file is
placed under a name no other file has (its name as sent, the UTC time and the start of its
sha256, its type kept) by writing a hidden draft, flushing it to disk and linking it in, which
never replaces a file; its sidecar (flows/load/inbox.py `sidecar_of`) is in place first, so a
night that sees the file sees who sent it. Bytes already waiting in the inbox, or already
loaded, are not placed again: the receipt says where they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.load import sender_scope
from flows.load.inbox import discover, sha256_of, sidecar_of
from flows.load.validate import QUARANTINE, REJECT, Problem, Verdict, validate
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.sources.limits import UPLOAD_LIMIT_BYTES, UPLOAD_LIMIT_MB
from flows.warehouse import backend

# Every type some source takes, for the page's file chooser; each source's own are checked here.
FILE_TYPES = tuple(sorted({kind for source in SOURCES.values() for kind in source.formats}))


@dataclass(frozen=True)
class Receipt:
    """What became of one file sent: its verdict and where it was placed, if it was."""

    file: str  # the name it was sent under
    sender: str
    sha256: str
    size: int
    verdict: Verdict  # validate's, or a refusal before judging (one problem, no rows)
    received_at: str = ""
    placed_as: str | None = None  # where it waits, relative to the data directory
    waiting_as: str | None = None  # the same bytes, already waiting in the inbox
    judged: bool = True  # False: refused before it was judged

    @property
    def source(self) -> str | None:
        return self.verdict.source

    def outcome(self) -> str:
        """Where the file went, in a sentence."""
        if self.placed_as:
            held = ", setting aside the rows listed" if self.verdict.verdict == QUARANTINE else ""
            return f"Placed in the inbox as `{self.placed_as}`: the next night loads it{held}."
        if self.waiting_as:
            return (
                f"Not placed: the same bytes are already waiting in the inbox as "
                f"`{self.waiting_as}`, which the next night loads."
            )
        if not self.judged:
            return "Not placed: the file was refused before it was judged."
        if self.verdict.verdict == REJECT:
            return "Not placed: a night would refuse this file. Correct it and send it again."
        return (
            f"Not placed: these bytes are already loaded (load {self.verdict.loaded_as}); a "
            "night would skip them."
        )


def suggested_source(name: str) -> str | None:
    """The source a file's name suggests: the one whose name it starts with, as the source's
    template is named (`bluelight sources NAME --template` writes NAME.csv), alone or followed
    by `_`, `-`, `.` or a space (`incidents_2016-05.csv`); the longest such name, so
    `bid_costs_2017.xlsx` is bid_costs, not bids. None when no source's name fits."""
    stem = Path(name).name.lower()
    fits = [s for s in SOURCES if re.match(rf"{re.escape(s)}(?:[_\-. ]|$)", stem)]
    return max(fits, key=len, default=None)


def receive(
    settings: Settings,
    name: str,
    data: bytes,
    sender: str,
    source: str | None = None,
    organisations: frozenset[str] | None = None,
) -> Receipt:
    """Judge the file `name` holding `data`, sent by `sender` for `source` (by default the one
    its name suggests), and place it in the inbox unless its verdict is `reject` or its bytes
    are waiting or loaded already. A sender granted `organisations` (None: every one) may send
    only rows of their areas (flows/load/sender_scope.py); a row outside them rejects the
    file."""
    sent = Path(name.replace("\\", "/")).name
    now = datetime.now(UTC)
    received = {
        "file": sent,
        "sender": sender,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "received_at": now.isoformat(timespec="seconds"),
    }
    source = source or suggested_source(sent)
    refusal = refused(sent, len(data), source)
    if refusal:
        verdict = Verdict(sent, source if source in SOURCES else None, REJECT, problems=[refusal])
        return Receipt(**received, verdict=verdict, judged=False)
    placed_name = stamped(sent, now, received["sha256"])
    verdict = _judge(settings, source, placed_name, data, organisations)
    if verdict.verdict == REJECT or verdict.loaded_as:
        return Receipt(**received, verdict=verdict)
    waiting = waiting_as(settings, received["sha256"], len(data))
    if waiting:
        return Receipt(**received, verdict=verdict, waiting_as=waiting)
    target = settings.inbox / source / placed_name
    sidecar = {key: received[key] for key in ("sender", "sha256", "received_at")}
    try:
        _place(target, data, {**sidecar, "original_name": sent, "source": source})
    except FileExistsError:  # the same bytes, sent under the same name in the same second
        return Receipt(**received, verdict=verdict, waiting_as=_relative(settings, target))
    return Receipt(**received, verdict=verdict, placed_as=_relative(settings, target))


def refused(name: str, size: int, source: str | None) -> Problem | None:
    """What stops a file before it is judged: no source, a type its source does not take, or
    a size over the Upload page's limit; None if nothing does."""
    if source is None:
        return Problem(
            None,
            None,
            "say which source the file is for: its name does not start with a source's name "
            "(`bluelight sources` lists them)",
        )
    if source not in SOURCES:
        return Problem(None, None, f"no source {source!r} (`bluelight sources` lists them)")
    kind = Path(name).suffix.lower().lstrip(".")
    takes = SOURCES[source].formats
    if kind not in takes:
        what = f"a .{kind} file" if kind else "a file without a type (.csv, ...)"
        return Problem(None, None, f"{what}: {source} takes {', '.join(takes)}")
    if size > UPLOAD_LIMIT_BYTES:
        return Problem(
            None,
            None,
            f"{size:,} bytes, over the Upload page's limit of {UPLOAD_LIMIT_MB} MB "
            f"({UPLOAD_LIMIT_BYTES:,} bytes); a larger file goes into inbox/{source}/ by whoever "
            "runs the machine",
        )
    return None


def stamped(name: str, at: datetime, sha256: str) -> str:
    """The name a file is placed under: its name as sent (letters, digits, `.`, `_` and `-`;
    never hidden, which the night would pass by), the UTC time and the first 8 hex digits of
    its sha256, its type kept (`incidents_may_20250601T093012Z_1a2b3c4d.csv`)."""
    path = Path(name)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._-")[:80] or "upload"
    return f"{stem}_{at:%Y%m%dT%H%M%SZ}_{sha256[:8]}{path.suffix.lower()}"


def waiting_as(settings: Settings, sha256: str, size: int) -> str | None:
    """A file waiting in the inbox with these bytes (only files of the same size are read)."""
    for item in discover(settings.inbox):
        if item.path.stat().st_size == size and sha256_of(item.path) == sha256:
            return _relative(settings, item.path)
    return None


def _judge(
    settings: Settings, source: str, name: str, data: bytes, organisations: frozenset[str] | None
) -> Verdict:
    """`bluelight validate`'s verdict, on a copy in `<temporary>/<source>/<name>`, so that it
    names the file as the night will (`<source>/<name>`); `reject` with the rows outside the
    sender's areas when it would load and they are not all within them."""
    with tempfile.TemporaryDirectory(prefix="bluelight-upload-") as folder:
        path = Path(folder) / source / name
        path.parent.mkdir()
        path.write_bytes(data)
        published = backend.published(settings)
        verdict = validate(path, source, published, settings)
        if organisations is None or verdict.verdict == REJECT:
            return verdict
        within = sender_scope.areas(published, organisations, settings)
        outside = sender_scope.problems(path, source, f"{source}/{name}", within)
    if not outside:
        return verdict
    return Verdict(verdict.file, verdict.source, REJECT, rows=verdict.rows, problems=outside)


def _place(target: Path, data: bytes, sidecar: dict) -> None:
    """The sidecar, then the file, each written whole before it appears under its name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_new(sidecar_of(target), json.dumps(sidecar, indent=1).encode() + b"\n")
    try:
        _write_new(target, data)
    except BaseException:
        sidecar_of(target).unlink(missing_ok=True)
        raise


def _write_new(target: Path, data: bytes) -> None:
    """Write `data` to a hidden draft beside `target` (`.<name>.partial`, which discover passes
    by and a night's recovery removes), flush it to disk, and link it in as `target`: a link
    never replaces a file (FileExistsError). Where the filesystem has no hard links, a rename
    after checking that nothing is there."""
    draft = target.with_name(f".{target.name}.partial")
    with draft.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        try:
            os.link(draft, target)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this filesystem
            if target.exists():
                raise FileExistsError(target) from None
            os.replace(draft, target)
    finally:
        draft.unlink(missing_ok=True)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the new name is on disk too
    finally:
        os.close(folder)


def _relative(settings: Settings, path: Path) -> str:
    return path.relative_to(settings.home).as_posix()
