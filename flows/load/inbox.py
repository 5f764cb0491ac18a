"""The inbox: what waits in `inbox/<source>/`, each file's sha256, its copy in the archive
(named by content), whether those bytes are already loaded, and refusing a file: it moves to
`rejected/<run>/<source>/` with a `.reason.txt` naming the file, row and column, and is recorded
in audit.rejected_files; `read_reason` reads a `.reason.txt` back.

A file sent through the dashboard's Upload page (flows/load/upload.py) has a sidecar beside it,
`.<name>.sender.json`, saying who sent it: hidden, so `discover` passes it by. It goes with its
file into the archive (beside the copy named by content) and to `rejected/`, and leaves the
inbox with it; `sender_of` reads it for the file's load (audit.loaded_files.sent_by).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.sources.contracts import SOURCES, Source, load_rank
from flows.sources.errors import ContractError
from flows.warehouse.copying import copy_file


@dataclass(frozen=True)
class InboxFile:
    path: Path
    folder: str

    @property
    def source(self) -> Source | None:
        return SOURCES.get(self.folder)

    def relative(self, inbox: Path) -> str:
        return self.path.relative_to(inbox).as_posix()


def discover(inbox: Path) -> list[InboxFile]:
    """Every file waiting in `inbox/<source>/`, lookups' targets first; hidden files ignored."""
    if not inbox.exists():
        return []
    found = []
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(inbox).parts):
            parts = path.relative_to(inbox).parts
            found.append(InboxFile(path, parts[0] if len(parts) > 1 else ""))
    return sorted(found, key=lambda f: (load_rank(f.folder), f.path))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archived_as(path: Path, sha256: str, archive: Path) -> Path:
    """Where the archive keeps a file's bytes: named by content, with its type."""
    return archive / f"{sha256}{path.suffix.lower()}"


def archive_copy(path: Path, sha256: str, archive: Path) -> Path:
    """Copy into the archive, named by content, with the sidecar saying who sent these bytes;
    an existing copy is the same bytes, an existing sidecar their first sender."""
    target = archived_as(path, sha256, archive)
    _copy_new(path, target)
    if sender_of(path, sha256):
        _copy_new(sidecar_of(path), sidecar_of(target))
    return target


def _copy_new(path: Path, target: Path) -> None:
    """Copy `path` to `target` through a `.partial` beside it, unless `target` exists."""
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        copy_file(path, partial)  # a reflink where the filesystem has them
        partial.replace(target)


def sidecar_of(path: Path) -> Path:
    """The hidden file beside `path` saying who sent it (flows/load/upload.py writes it)."""
    return path.with_name(f".{path.name}.sender.json")


def is_sidecar(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".sender.json")


def sender_of(path: Path, sha256: str) -> str | None:
    """Who sent the file at `path`, from its sidecar; None without one, or when the sidecar is
    for other bytes (the file was replaced by hand under the same name)."""
    try:
        kept = json.loads(sidecar_of(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("sha256") != sha256 or not kept.get("sender"):
        return None
    return str(kept["sender"])


def remove(path: Path) -> None:
    """A file the archive holds leaves the inbox, with its sidecar."""
    path.unlink(missing_ok=True)
    sidecar_of(path).unlink(missing_ok=True)


def already_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    row = con.execute(
        "select load_id from audit.loaded_files where sha256 = ? and status = 'loaded' limit 1",
        [sha256],
    ).fetchone()
    return row[0] if row else None


def reject(
    con: duckdb.DuckDBPyConnection,
    item: InboxFile,
    error: ContractError,
    *,
    run_id: str,
    rejected_dir: Path,
    inbox: Path,
    sha256: str | None,
) -> Path:
    """Move a refused file to `rejected/<run>/` with a `.reason.txt` beside it, and record it."""
    target_dir = rejected_dir / run_id / item.folder
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / item.path.name
    shutil.move(item.path, target)
    if sidecar_of(item.path).exists():
        shutil.move(sidecar_of(item.path), sidecar_of(target))
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {item.relative(inbox)}\nrow: {error.row or ''}\ncolumn: {error.column or ''}\n"
        f"reason: {error.reason}\n",
        encoding="utf-8",
    )
    con.execute(
        "insert into audit.rejected_files values (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
        [
            run_id,
            item.folder,
            item.relative(inbox),
            str(target),
            sha256,
            error.row,
            error.column,
            error.reason,
        ],
    )
    return target


def read_reason(path: Path) -> dict[str, str] | None:
    """The fields of a `.reason.txt` (`reject`), or None if it is not whole."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, sep, reason = text.partition("\nreason: ")
    lines = head.split("\n")
    if not sep or not text.endswith("\n") or len(lines) != 3:
        return None
    fields = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in lines)
    if not fields.get("file"):
        return None
    return {**fields, "reason": reason[:-1]}
