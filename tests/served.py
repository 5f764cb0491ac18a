"""The dashboard served for a browser test: `bluelight dashboard` on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_local(url: str) -> bool:
    """Whether the browser's request stays on this machine."""
    return url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname in (
        "127.0.0.1",
        "localhost",
    )


@contextmanager
def served_dashboard(home: Path, log_dir: Path) -> Iterator[str]:
    """Serve the dashboard on `home`'s published warehouse as a user starts it; yields its
    address once it answers, and stops it after (its output in `log_dir/streamlit.log`)."""
    port = free_port()
    env = {**os.environ, "BLUELIGHT_HOME": str(home), "BLUELIGHT_DASHBOARD_PORT": str(port)}
    with (log_dir / "streamlit.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "dashboard"], env=env, stdout=log, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail("the dashboard did not start within 60 s")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)
