"""Downloading a publisher's file into the inbox: `download`, and `DownloadError` saying
whether trying again may help (the nightly flow retries only then)."""

from __future__ import annotations

import posixpath
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class DownloadError(Exception):
    """A publisher's file could not be fetched; `transient` when trying again may help (the
    network, a timeout, HTTP 429 or 5xx), not for a wrong address (HTTP 404) or a refused one."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def _safe_name(raw: str) -> str:
    """A file name that stays inside the download folder, whatever the server or URL says."""
    name = raw.replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", name).strip(" .")  # no "..", no hidden files
    return name or "download"


def download(url: str, dest_dir: Path, timeout: float = 60) -> Path:
    """Fetch `url` into `dest_dir` and return the file's path.

    The name comes from Content-Disposition, else the last part of the (final) URL path,
    sanitised so it cannot leave `dest_dir`. Bytes stream to `<name>.partial`, renamed only when
    complete, so a failed download never leaves a file that looks whole. HTTP and network errors
    raise DownloadError.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url}: only http and https URLs are fetched")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "bluelight"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            url_name = posixpath.basename(
                urllib.parse.unquote(urllib.parse.urlsplit(response.url).path)
            )
            target = dest_dir / _safe_name(response.headers.get_filename() or url_name)
            if target.resolve().parent != dest_dir.resolve():
                raise DownloadError(f"{url}: refusing to write outside {dest_dir}")
            partial = target.with_name(target.name + ".partial")
            try:
                with partial.open("wb") as out:
                    shutil.copyfileobj(response, out, 1 << 20)
                expected = response.headers.get("Content-Length")
                if expected and partial.stat().st_size != int(expected):
                    raise DownloadError(
                        f"{url}: got {partial.stat().st_size} of {expected} bytes", True
                    )
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
    except urllib.error.HTTPError as exc:
        transient = exc.code == 429 or exc.code >= 500
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}", transient) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise DownloadError(f"{url}: {getattr(exc, 'reason', exc)}", transient=True) from exc
    return target
