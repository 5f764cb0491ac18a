"""Restoring a backup (flows/warehouse/backup.py) into an empty data directory
(`bluelight restore`), and checking one without restoring it (`bluelight restore --check`).

Nothing is written until the whole backup has been checked: every file the manifest lists is
there with its size and sha256, no file is there that it does not list, and `SHA256SUMS` (what an
auditor checks with `sha256sum -c`) lists the same files and hashes as `MANIFEST.json`. Then the
files are copied (by reflink where the filesystem has them: flows/warehouse/copying.py), files
that were one file on disk linked again, modes and times kept, and the restored data directory
is checked against the manifest once more before the restore says it is done. The restore holds
the new data directory's run lock, so a night served on it waits until the files are all there.
"""

from __future__ import annotations

import os
from pathlib import Path

from flows.warehouse import runlog
from flows.warehouse.backup import (
    LEFT_OUT_FILES,
    MANIFEST,
    SUMS,
    Manifest,
    NotVerified,
    Progress,
    Refused,
    Say,
    check_tree,
    hard_link,
    make_folders,
    read_manifest,
    read_sums,
)
from flows.warehouse.copying import copy_file


def check_backup(backup: Path, say: Say | None = None) -> Manifest:
    """The backup's manifest, once every file in `backup` matches it and `SHA256SUMS` agrees with
    it; NotVerified naming each file that does not (Refused when it is not a backup at all)."""
    manifest = read_manifest(backup)
    problems = _lists_disagree(backup, manifest)
    problems += check_tree(backup, manifest, ignore={MANIFEST, SUMS}, say=say)
    if problems:
        raise NotVerified(backup, problems)
    return manifest


def _lists_disagree(backup: Path, manifest: Manifest) -> list[str]:
    """Where `SHA256SUMS` and `MANIFEST.json` differ, by file."""
    try:
        text = (backup / SUMS).read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return [f"{SUMS}: missing"]
    sums = read_sums(text)
    listed = {e.path: e.sha256 for e in manifest.files}
    return [
        f"{path}: {SUMS} and {MANIFEST} do not list the same sha256 for it"
        for path in sorted(set(sums) | set(listed))
        if sums.get(path) != listed.get(path)
    ]


def empty_home(home: Path) -> None:
    """Refused unless `home` is new or an empty folder (but for the services' own folder),
    naming what is there."""
    if home.exists() and not home.is_dir():
        raise Refused(f"{home} is a file: restore into a new or empty data directory")
    if home.is_dir():
        # The services' own folder (a server's install makes it) is no data: a restore leaves it.
        there = sorted(
            p.name + ("/" if p.is_dir() else "")
            for p in home.iterdir()
            if not (p.name == "services" and p.is_dir())
        )
        if there:
            shown = ", ".join(there[:8]) + (f" and {len(there) - 8} more" if len(there) > 8 else "")
            raise Refused(
                f"{home} is not empty: it holds {shown}. Restore only into an empty data "
                "directory: give a new one with --home, or move this one aside first"
            )


def restore(backup: Path, home: Path, say: Say | None = None) -> Manifest:
    """Check the backup, copy it into the empty data directory `home`, check the copy: the
    manifest. Refused or NotVerified before anything is written when the backup does not check;
    NotVerified after, when the copy does not match (then `home` is not to be used)."""
    empty_home(home)
    owner = _owner(home)
    if home.resolve().is_relative_to(backup.resolve()):
        raise Refused(f"{home} is inside the backup {backup}: restore it somewhere apart")
    manifest = check_backup(backup, say)
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)  # owner-only while the secrets go in; its own mode at the end
    with runlog.run_lock(home):
        _copy(backup, home, manifest, say)
        make_folders(home, manifest.folders, top_mode=manifest.folders.get("."))
        os.sync()
        problems = check_tree(home, manifest, ignore=set(LEFT_OUT_FILES), say=say)
    if problems:
        raise NotVerified(home, problems)
    if owner is not None:
        _give(home, owner)
    return manifest


def _owner(home: Path) -> tuple[int, int] | None:
    """Who the restored files must belong to when root restores: the owner of the data directory
    made ready for them (a server's install makes it the services' account's), so the services
    can write what root copied. None when not root, or for a new folder: the files stay root's."""
    if os.geteuid() != 0 or not home.is_dir():
        return None
    info = home.stat()
    return None if info.st_uid == 0 else (info.st_uid, info.st_gid)


def _give(home: Path, owner: tuple[int, int]) -> None:
    """Make `home` and everything in it `owner`'s (hard links once, as one file)."""
    os.chown(home, *owner)
    for folder, dirs, files in os.walk(home):
        for name in (*dirs, *files):
            os.chown(os.path.join(folder, name), *owner, follow_symlinks=False)


def _copy(backup: Path, home: Path, manifest: Manifest, say: Say | None) -> None:
    progress = Progress(say, "restoring", len(manifest.files), manifest.byte_count)
    for entry in manifest.files:
        source, target = backup / entry.path, home / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.same_as is None or not hard_link(home / entry.same_as, target):
            copy_file(source, target)
            info = source.stat()
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
            os.chmod(target, entry.mode)
        progress.add(entry.size, files=1)
