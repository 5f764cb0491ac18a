"""Backups of the data directory that an auditor can check (`bluelight backup`), and the manifest
that `bluelight restore` (flows/warehouse/restore.py) and `sha256sum -c` check them against.

A backup is a folder holding a copy of the data directory's files and two lists of them:
`SHA256SUMS` (each file's sha256 and path, as `sha256sum -c` reads them) and `MANIFEST.json`
(the same files with their sizes and modes, the folders, which files are one file on disk, the
release and commit that wrote it, when and from where, and the access log's chain as copied).
`MANIFEST.json` is written last: a folder without it is a backup cut short, not a backup.

The copy is consistent while the dashboard reads and a night may be due:
- it holds the run lock (flows/warehouse/runlog.py) while it copies, so no night starts or is
  part-way: the warehouse, its kept versions, the archive, `rejected/` and `runs.jsonl` change
  only in a night;
- a reader changes nothing: published warehouse files are never written, only replaced by
  rename in a night (flows/warehouse/publish.py), so copying one while it is open is safe;
- the access log is appended by the dashboard at any time (flows/security/access_log.py): under
  the appenders' own lock the backup notes the tip and the log's length, then copies that many
  bytes, so the copy ends at the entry its tip records; later entries go in the next backup.

Left out: `build/` (a night's work copy), `bench/` (`bluelight bench`'s scratch homes),
`signin/`, the run lock, half-written files (`*.partial`, `*.draft`) and anything that is not a
regular file or folder (a symbolic link, a socket). `signin/` holds only secrets the dashboard
makes again: the key that signs sign-in cookies (whoever has it can forge a sign-in as anyone;
after a restore the dashboard makes a new one, and everyone signs in again) and Streamlit's
`[auth]` file, written from the settings at each start (it holds the provider's client secret,
which belongs with the settings, not with the data). Everything else is copied: agency data,
the access log (who viewed what) and the access file are no less private, so the backup's
folder is made owner-only.

Each file is read once, hashed as it is written to the backup; at the end every file in the
backup is read back and checked against the manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flows.security import access_log
from flows.settings import Settings
from flows.warehouse import runlog

FORMAT = "bluelight-backup/1"
MANIFEST = "MANIFEST.json"
SUMS = "SHA256SUMS"
# At the top of the data directory: a night's work copy, benchmark runs, secrets the dashboard
# makes again, and what the services keep for themselves (flows/deploy.py: their caches and
# Prefect's database, written while they run, none of it evidence).
LEFT_OUT_FOLDERS = ("build", "bench", "signin", "services")
LEFT_OUT_FILES = (".run.lock",)
HALF_WRITTEN = (".partial", ".draft")
CHUNK = 1 << 20

Say = Callable[[str], None]


class Refused(Exception):
    """The command was used wrongly (exit status 2): nothing was written."""

    status = 2


class NightRunning(Refused):
    """A night holds the run lock, past the time the backup would wait (exit status 3)."""

    status = 3


class NotVerified(Exception):
    """A file differs from the manifest, is missing or is not in it (exit status 1)."""

    status = 1

    def __init__(self, where: Path, problems: list[str]):
        super().__init__(f"{where}: {len(problems)} problem(s): {'; '.join(problems[:3])}")
        self.where = where
        self.problems = problems


@dataclass
class Entry:
    """One file of a backup: its path (relative, with /), size, sha256 and permission bits; and
    the path of the file listed before it that is the same file on disk (a hard link), if any."""

    path: str
    size: int
    sha256: str
    mode: int
    same_as: str | None = None


@dataclass
class Manifest:
    """What `MANIFEST.json` holds."""

    created_at: str
    source_home: str
    bluelight_version: str
    commit: str
    host: str
    files: list[Entry] = field(default_factory=list)
    folders: dict[str, int] = field(default_factory=dict)  # path ("." the top) -> permission bits
    left_out: list[str] = field(default_factory=list)
    access_log: dict | None = None  # the chain as copied (access_log.verify on the copy)
    published_run: str | None = None  # the run that published the warehouse copied
    format: str = FORMAT

    @property
    def byte_count(self) -> int:
        return sum(e.size for e in self.files)

    def to_json(self) -> str:
        document = asdict(self)
        document["file_count"], document["byte_count"] = len(self.files), self.byte_count
        for entry in document["files"]:
            entry["mode"] = f"{entry['mode']:04o}"
        document["folders"] = {path: f"{mode:04o}" for path, mode in self.folders.items()}
        return json.dumps(document, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest (format {document.get('format')!r})")
        document.pop("file_count", None), document.pop("byte_count", None)
        files = [{**e, "mode": _mode(e["mode"])} for e in document.pop("files")]
        folders = {path: _mode(mode) for path, mode in document.pop("folders").items()}
        for path in [*(e["path"] for e in files), *(e.get("same_as") for e in files), *folders]:
            if path is not None and path != "." and not inside(path):
                raise ValueError(f"the manifest names {path!r}, outside the data directory")
        return cls(**document, files=[Entry(**e) for e in files], folders=folders)

    def sums_text(self) -> str:
        """`SHA256SUMS`, in the form `sha256sum -c` reads."""
        return "".join(sums_line(e.sha256, e.path) for e in self.files)


def inside(path: str) -> bool:
    """Whether a manifest's path stays in the folder it is read against: relative, and never
    through `..` (a crafted manifest must not make restore write or chmod anywhere else)."""
    parts = Path(path).parts
    return bool(parts) and not Path(path).is_absolute() and ".." not in parts


def _mode(text: str) -> int:
    """A file's or folder's mode from the manifest, permission bits only (no setuid or sticky)."""
    return int(text, 8) & 0o777


def sums_line(sha256: str, path: str) -> str:
    """One line of `sha256sum` output: a name holding a backslash or a new line is escaped and
    the line starts with a backslash, as GNU sha256sum writes and reads it."""
    if "\\" in path or "\n" in path:
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n")
        return "\\" + sha256 + "  " + escaped + "\n"
    return f"{sha256}  {path}\n"


def read_sums(text: str) -> dict[str, str]:
    """`SHA256SUMS` read back: path -> sha256."""
    found = {}
    for line in text.split("\n"):
        if not line:
            continue
        escaped = line.startswith("\\")
        sha256, _, path = line.removeprefix("\\").partition("  ")
        if escaped:
            path = path.replace("\\\\", "\0").replace("\\n", "\n").replace("\0", "\\")
        found[path] = sha256
    return found


def read_manifest(backup: Path) -> Manifest:
    """The manifest of the backup in `backup`; Refused when there is none, NotVerified when it
    cannot be read."""
    path = backup / MANIFEST
    if not path.is_file():
        raise Refused(
            f"{backup} is not a Bluelight backup: it has no {MANIFEST} (a backup cut short has "
            "none; `bluelight backup` writes it last)"
        )
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        raise NotVerified(backup, [f"{MANIFEST}: cannot be read: {error}"]) from error


class Progress:
    """A line now and then on how far a long copy or check has got: files and bytes."""

    def __init__(self, say: Say | None, doing: str, files: int, total: int, every: float = 5.0):
        self.say, self.doing, self.files, self.total, self.every = say, doing, files, total, every
        self.done_files = self.done_bytes = 0
        self.last = time.monotonic()

    def add(self, nbytes: int = 0, files: int = 0) -> None:
        self.done_bytes += nbytes
        self.done_files += files
        if self.say and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            share = self.done_bytes / self.total if self.total else 1
            self.say(
                f"  {self.doing}: {self.done_files:,} of {self.files:,} files, "
                f"{_mb(self.done_bytes)} of {_mb(self.total)} ({share:.0%})"
            )


def _mb(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f} MB"


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress.add(len(chunk))
    return digest.hexdigest()


def check_tree(root: Path, manifest: Manifest, ignore=(), say: Say | None = None) -> list[str]:
    """Every way the files under `root` differ from the manifest, each naming its file: missing,
    another size, another sha256, or there but not listed (`ignore`: top-level names that may
    be there). A file that is still one file on disk with the one it was linked to, checked
    already, is not read twice."""
    progress = Progress(say, "checking", len(manifest.files), manifest.byte_count)
    problems, good = [], set()
    for entry in manifest.files:
        path = root / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif (size := path.stat().st_size) != entry.size:
            problems.append(f"{entry.path}: {size:,} bytes where the manifest lists {entry.size:,}")
        elif _still_linked(root, entry, good):
            progress.add(entry.size)
            good.add(entry.path)
        elif sha256_file(path, progress) != entry.sha256:
            problems.append(f"{entry.path}: its sha256 is not the one the manifest lists")
        else:
            good.add(entry.path)
        progress.add(files=1)
    listed = {e.path for e in manifest.files}
    for relative in _files_under(root):
        if relative not in listed and relative not in ignore:
            problems.append(f"{relative}: not in the manifest")
    return problems


def _still_linked(root: Path, entry: Entry, good: set[str]) -> bool:
    """Whether `entry` is the same file on disk as the entry it was linked to, checked good."""
    if entry.same_as not in good:
        return False
    return os.path.samefile(root / entry.path, root / entry.same_as)


def _files_under(root: Path) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield (Path(folder) / name).relative_to(root).as_posix()


@dataclass
class _Plan:
    """What to copy: (relative path, source) of each file, the folders with their modes, what is
    left out, and the access log's copy (relative paths of the log and its tip)."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    folders: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    log: tuple[str, str] | None = None


def _plan(settings: Settings) -> _Plan:
    """Walk the data directory: each file to copy, each folder, and what is left out and why."""
    home, plan = settings.home, _Plan()
    log, tip = settings.access_log, access_log.tip_path(settings.access_log)
    taken_apart = {log, tip}
    for folder, dirs, files in os.walk(home):
        here = Path(folder)
        relative = here.relative_to(home).as_posix()
        plan.folders[relative] = stat.S_IMODE(here.stat().st_mode)
        for name in sorted(dirs):
            path = here / name
            top = here == home and name in LEFT_OUT_FOLDERS
            if top or path.is_symlink():
                plan.left_out.append(path.relative_to(home).as_posix() + "/")
                dirs.remove(name)
        dirs.sort()
        for name in sorted(files):
            path = here / name
            if path in taken_apart:
                continue
            lock = here == home and name in LEFT_OUT_FILES
            if _regular(path) and not name.endswith(HALF_WRITTEN) and not lock:
                plan.files.append((path.relative_to(home).as_posix(), path))
            else:
                plan.left_out.append(path.relative_to(home).as_posix())
    if log.exists() or tip.exists():
        inside = log.is_relative_to(home)
        name = log.relative_to(home).as_posix() if inside else "access/access.jsonl"
        plan.log = (name, name + ".tip")
    access_file = settings.access_file
    if access_file.is_file() and not access_file.is_relative_to(home):
        plan.files.append(("access.toml", access_file))  # kept outside: backed up by its name
    return plan


def _regular(path: Path) -> bool:
    """A regular file, not a link or socket (False for a draft gone since it was listed)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _copy_hashed(source: Path, target: Path, progress: Progress, limit: int | None = None):
    """Copy `source` (its first `limit` bytes) to the new file `target`, hashing the bytes as they
    are written: (size, sha256)."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(CHUNK if limit is None else min(CHUNK, limit - size)):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
            progress.add(len(chunk))
    return size, digest.hexdigest()


def _write_new(target: Path, data: bytes) -> tuple[int, str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as dst:
        dst.write(data)
    return len(data), hashlib.sha256(data).hexdigest()


def _copy_files(plan: _Plan, dest: Path, progress: Progress) -> list[Entry]:
    """Copy each planned file; a file that is a hard link of one copied before is linked to it
    in the backup too (copied again where the backup's filesystem has no hard links)."""
    entries, seen = [], {}
    for relative, source in plan.files:
        target = dest / relative
        try:
            info = source.stat()
            first = seen.get((info.st_dev, info.st_ino)) if info.st_nlink > 1 else None
            if first is not None and hard_link(dest / first.path, target):
                entries.append(Entry(relative, first.size, first.sha256, first.mode, first.path))
                progress.add(first.size, files=1)
                continue
            size, sha256 = _copy_hashed(source, target, progress)
        except FileNotFoundError:  # an upload's sidecar taken back as its file was refused
            plan.left_out.append(f"{relative} (gone while copying)")
            continue
        entries.append(Entry(relative, size, sha256, stat.S_IMODE(info.st_mode)))
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.chmod(target, entries[-1].mode)
        seen[(info.st_dev, info.st_ino)] = entries[-1]
        progress.add(files=1)
    return entries


def hard_link(existing: Path, target: Path) -> bool:
    """Link `target` to `existing`; False where the filesystem has no hard links."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(existing, target)
        return True
    except OSError:
        return False


def _copy_access_log(settings: Settings, names: tuple[str, str], dest: Path, progress) -> list:
    """The access log as of its tip: under the appenders' lock (held for a moment), the tip's
    bytes and the log's length; then the log's bytes up to that length. Appends only ever add
    after it, so the copy ends at the entry the tip records."""
    log, tip = settings.access_log, access_log.tip_path(settings.access_log)
    tip_bytes, length = None, None
    fd = os.open(log, os.O_RDONLY) if log.exists() else None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
            length = os.fstat(fd).st_size
        tip_bytes = tip.read_bytes() if tip.exists() else None
    finally:
        if fd is not None:
            os.close(fd)  # and with it the lock
    entries = []
    if length is not None:
        size, sha256 = _copy_hashed(log, dest / names[0], progress, limit=length)
        entries.append(Entry(names[0], size, sha256, stat.S_IMODE(log.stat().st_mode)))
    if tip_bytes is not None:
        size, sha256 = _write_new(dest / names[1], tip_bytes)
        entries.append(Entry(names[1], size, sha256, stat.S_IMODE(tip.stat().st_mode)))
    for entry in entries:
        os.chmod(dest / entry.path, entry.mode)
    progress.add(files=len(entries))
    return entries


def chain_of(root: Path, name: str) -> dict:
    """What `bluelight access-log --verify` says of the log `name` under `root`, for the
    manifest."""
    verdict = access_log.verify(root / name)
    return {
        "path": name,
        "entries": verdict.count,
        "last_hash": verdict.last_hash,
        "whole": verdict.whole,
        "broken_at_line": verdict.line,
        "reason": verdict.reason,
    }


@contextmanager
def night_lock(home: Path, wait_seconds: float, say: Say | None) -> Iterator[None]:
    """Hold the run lock of `home`, waiting up to `wait_seconds` for a night that holds it
    (runlog.run_lock waits); NightRunning after that."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(runlog.run_lock(home))
        except runlog.RunInProgress as busy:
            if not wait_seconds:
                raise _night_running(home, "") from busy
            if say:
                say(f"A night is running in {home}; waiting up to {wait_seconds:g} s for it.")
            try:
                held.enter_context(runlog.run_lock(home, wait_seconds))
            except runlog.RunInProgress as still:
                raise _night_running(home, f" after waiting {wait_seconds:g} s") from still
        yield


def _night_running(home: Path, waited: str) -> NightRunning:
    return NightRunning(
        f"a night is running in {home}{waited}; nothing was copied. Try again when it ends, or "
        "give --wait SECONDS to wait for it"
    )


def _empty_destination(dest: Path, home: Path) -> None:
    """Refused unless `dest` is new or an empty folder, and apart from the data directory."""
    dest, home = dest.resolve(), home.resolve()
    if dest.is_relative_to(home) or home.is_relative_to(dest):
        raise Refused(f"{dest}: a backup goes outside the data directory ({home}), and apart")
    if dest.exists() and not dest.is_dir():
        raise Refused(f"{dest} is a file: a backup goes into a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        there = ", ".join(sorted(p.name for p in dest.iterdir())[:5])
        raise Refused(f"{dest} is not empty (it holds {there}): give a new or empty folder")


def make_folders(root: Path, folders: dict[str, int], top_mode: int | None) -> None:
    """Make each folder under `root` (empty ones too) with its mode, deepest first, so a folder
    without write permission is set after what goes in it; `root` gets `top_mode` (None: as is)."""
    for relative in sorted(folders, key=lambda p: p.count("/"), reverse=True):
        folder = root / relative
        folder.mkdir(parents=True, exist_ok=True)
        if relative != ".":
            os.chmod(folder, folders[relative])
    if top_mode is not None:
        os.chmod(root, top_mode)


def take_backup(
    settings: Settings, dest: Path, *, wait_seconds: float = 0, say: Say | None = None
) -> Manifest:
    """Copy the data directory into `dest` holding the run lock, write the manifest, and check
    the copy against it. Refused (nothing written) when `dest` is not new or empty or a night
    holds the lock past `wait_seconds`; NotVerified when the copy does not match."""
    home = settings.home
    if not home.is_dir():
        raise Refused(f"there is no data directory at {home} (BLUELIGHT_HOME): nothing to back up")
    _empty_destination(dest, home)
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_home=str(home.resolve()),
        bluelight_version=_version(),
        commit=_commit(),
        host=socket.gethostname(),
    )
    with night_lock(home, wait_seconds, say):
        plan = _plan(settings)
        dest.mkdir(parents=True, exist_ok=True)
        os.chmod(dest, 0o700)  # owner-only from the start: the backup holds secrets
        total = sum(source.stat().st_size for _, source in plan.files)
        total += settings.access_log.stat().st_size if settings.access_log.exists() else 0
        progress = Progress(say, "copying", len(plan.files) + 2 * bool(plan.log), total)
        manifest.files = _copy_files(plan, dest, progress)
        if plan.log:
            manifest.files += _copy_access_log(settings, plan.log, dest, progress)
    manifest.folders, manifest.left_out = plan.folders, plan.left_out
    make_folders(dest, plan.folders, top_mode=None)
    if plan.log:
        manifest.access_log = chain_of(dest, plan.log[0])
    manifest.published_run = _published_run(dest / settings.published_db.relative_to(home))
    _write_lists(dest, manifest)
    problems = check_tree(dest, read_manifest(dest), ignore={MANIFEST, SUMS}, say=say)
    if problems:
        raise NotVerified(dest, problems)
    return manifest


def _write_lists(dest: Path, manifest: Manifest) -> None:
    """`SHA256SUMS`, then `MANIFEST.json` (last: its presence says the backup is whole), each
    written to a draft, flushed and renamed into place, after every copied byte is on disk."""
    os.sync()
    for name, text in ((SUMS, manifest.sums_text()), (MANIFEST, manifest.to_json())):
        draft = dest / f".{name}.draft"
        with draft.open("w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(draft, 0o444)
        draft.replace(dest / name)
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _published_run(published: Path) -> str | None:
    """The run that published the warehouse file `published` (None when there is none)."""
    from flows.warehouse import publish

    if not published.is_file():
        return None
    row = publish.publishing_run(published)
    return row[0] if row else None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bluelight")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _commit() -> str:
    from flows.bench.report import commit

    return commit()
