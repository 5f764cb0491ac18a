"""File copies that share the bytes on disk where the filesystem can (reflinks: XFS, btrfs), and
copy them where it cannot (ext4, tmpfs, another filesystem, another OS).

Each night starts its build from a copy of the published warehouse (10 GB at national scale),
and every loaded file is copied into the archive. A reflink makes either copy take
milliseconds, and the two files then share the blocks neither has rewritten. A write to one
file never reaches the other (the filesystem copies a shared block before writing it), so a
reflink is a copy in every sense the warehouse relies on.

Written here rather than taken from a package: it is one ioctl with a fallback, and the
packages that wrap it (reflink, reflink-copy) add a compiled dependency for those lines.
"""

from __future__ import annotations

import fcntl
import shutil
import sys
from pathlib import Path

# linux/fs.h: _IOW(0x94, 9, int); Python 3.12 names it, 3.11 does not.
FICLONE = getattr(fcntl, "FICLONE", 0x40049409)


def copy_file(source: Path, target: Path) -> bool:
    """Copy `source` to `target`, replacing it; True when the copy is a reflink."""
    target.unlink(missing_ok=True)  # a leftover may be read-only (a kept version's copy)
    if sys.platform == "linux":
        with open(source, "rb") as src, open(target, "xb") as dst:
            try:
                fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
                return True
            except OSError:
                pass  # no reflinks: EOPNOTSUPP, EINVAL, EXDEV (another filesystem), ENOTTY
    shutil.copyfile(source, target)
    return False
