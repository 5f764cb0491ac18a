"""The operator's verbs for keeping the data directory safe: `backup` (a checked copy of it, with
a manifest of every file's sha256) and `restore` (into an empty data directory, every sha256
checked before and after; `--check` checks a backup and writes nothing). The work is in
flows/warehouse/backup.py and restore.py; this module says what happened."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import time
from collections import Counter
from pathlib import Path

from flows.settings import Settings


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def backup(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import backup as backups

    dest = args.dest
    print(
        f"Backing up {settings.home} into {dest}, holding the run lock (a night due before "
        "the copy ends waits for it) ...",
        flush=True,
    )
    start = time.perf_counter()
    try:
        manifest = backups.take_backup(settings, dest, wait_seconds=args.wait, say=_say)
    except backups.Refused as refused:
        print(f"Not backed up: {refused}", file=sys.stderr)
        return refused.status
    except backups.NotVerified as failed:
        _problems(f"The backup in {dest} does not match its manifest: do not rely on it.", failed)
        return failed.status
    except OSError as error:  # a full or failing disk: the copy is cut short
        print(
            f"Not backed up: {error}. {dest} holds a partial copy without {backups.MANIFEST}: "
            "remove it before trying again.",
            file=sys.stderr,
        )
        return 1
    print(f"Backed up in {time.perf_counter() - start:.1f} s into {dest}:")
    _contents(manifest)
    if manifest.left_out:
        print(f"  left out: {', '.join(manifest.left_out)}")
    sums = hashlib.sha256((dest / backups.SUMS).read_bytes()).hexdigest()
    print(
        f"Checked: every file in {dest} matches {backups.MANIFEST}.\n"
        f"sha256 of {backups.SUMS}: {sums}\n"
        "  (keep it apart from the backup: it shows later that the list of files is unchanged)\n"
        f"An auditor checks the backup with: cd {dest} && sha256sum -c --quiet {backups.SUMS}"
    )
    return 0


def restore(args: argparse.Namespace, settings: Settings) -> int:
    from flows.warehouse import backup as backups
    from flows.warehouse import restore as restoring

    source, home = args.src, args.home or settings.home
    start = time.perf_counter()
    try:
        if args.check:
            print(f"Checking the backup {source} against its manifest ...", flush=True)
            manifest = restoring.check_backup(source, say=_say)
        else:
            print(f"Restoring the backup {source} into {home} ...", flush=True)
            manifest = restoring.restore(source, home, say=_say)
    except (backups.Refused, backups.NotVerified, OSError) as error:
        return _not_restored(error, source, home, args.check)
    seconds = time.perf_counter() - start
    done = "Checked" if args.check else f"Restored into {home}"
    print(
        f"{done} in {seconds:.1f} s: every sha256 matches {backups.MANIFEST} and "
        f"{backups.SUMS}{'' if args.check else ', before copying and after'}."
    )
    print(
        f"  backup taken {manifest.created_at} from {manifest.host}:{manifest.source_home} by "
        f"bluelight {manifest.bluelight_version} ({manifest.commit})"
    )
    _contents(manifest)
    if not args.check:
        _log_note(manifest, dataclasses.replace(settings, home=home))
    return 0


def _not_restored(error: Exception, source: Path, home: Path, check: bool) -> int:
    """Say why the backup was not restored (or did not check); its exit status."""
    from flows.warehouse import backup as backups

    if isinstance(error, backups.NotVerified):
        if error.where.resolve() == source.resolve():
            headline = f"The backup {source} does not match its manifest: nothing was written."
        else:
            headline = (
                f"The restored data directory {home} does not match the backup's manifest: do "
                "not use it; empty it and restore again."
            )
        _problems(headline, error)
        return error.status
    if isinstance(error, backups.Refused):
        print(f"Not restored: {error}", file=sys.stderr)
        return error.status
    partial = "" if check else f" {home} holds a partial copy: empty it before trying again."
    print(f"Not {'checked' if check else 'restored'}: {error}.{partial}", file=sys.stderr)
    return 1


def _contents(manifest) -> None:
    """What the backup holds: files and bytes, by top-level folder; the published run; the
    access log's chain."""
    stored = sum(e.size for e in manifest.files if e.same_as is None)
    linked = (
        f" as listed, {stored / 1e6:,.1f} MB stored (a file under two names stored once)"
        if stored != manifest.byte_count
        else ""
    )
    print(f"  {len(manifest.files):,} files, {manifest.byte_count / 1e6:,.1f} MB{linked}")
    files, sizes = Counter(), Counter()
    for entry in manifest.files:
        top = entry.path.split("/", 1)[0] + ("/" if "/" in entry.path else "")
        files[top] += 1
        sizes[top] += 0 if entry.same_as else entry.size
    for top in sorted(files):
        print(f"    {top:<20} {files[top]:>7,} files {sizes[top] / 1e6:>11,.1f} MB")
    print(f"  published warehouse: {_published(manifest)}")
    log = manifest.access_log
    if log is None:
        print("  access log: none yet")
    elif log["whole"]:
        print(f"  access log: {log['entries']:,} entries, chain whole (last {log['last_hash']})")
    else:
        print(
            f"  access log: chain BROKEN at line {log['broken_at_line']}: {log['reason']} (as "
            "copied; `bluelight access-log --verify` says the same of the data directory)"
        )


def _published(manifest) -> str:
    if manifest.published_run is None:
        return "none"
    return f"published by run {manifest.published_run}"


def _log_note(manifest, settings: Settings) -> None:
    """Where the restored access log is, when BLUELIGHT_ACCESS_LOG points elsewhere."""
    log = manifest.access_log
    if log and settings.access_log != settings.home / log["path"]:
        print(
            f"  note: the access log was restored to {settings.home / log['path']}, but "
            f"BLUELIGHT_ACCESS_LOG points to {settings.access_log}: move it there, or unset it"
        )


def _problems(headline: str, failed) -> None:
    print(f"{headline} {len(failed.problems)} problem(s):", file=sys.stderr)
    for problem in failed.problems[:50]:
        print(f"  {problem}", file=sys.stderr)
    if len(failed.problems) > 50:
        print(f"  and {len(failed.problems) - 50} more", file=sys.stderr)


def add_verbs(verbs) -> None:
    """backup, restore."""
    backup_verb = verbs.add_parser(
        "backup",
        help="copy the data directory into DEST (a new or empty folder) holding the run lock, "
        "with a manifest of every file's sha256 (SHA256SUMS, MANIFEST.json), and check the copy",
    )
    backup_verb.add_argument("dest", type=Path, metavar="DEST")
    backup_verb.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="when a night is running, wait up to this long for it to end (default: refuse at "
        "once, exit status 3)",
    )
    restore_verb = verbs.add_parser(
        "restore",
        help="check every file of the backup SRC against its manifest, copy it into an empty "
        "data directory and check the copy; exit status 1 naming each file that does not match",
    )
    restore_verb.add_argument("src", type=Path, metavar="SRC")
    restore_verb.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="the data directory to restore into, new or empty (default BLUELIGHT_HOME)",
    )
    restore_verb.add_argument(
        "--check", action="store_true", help="only check the backup against its manifest"
    )
