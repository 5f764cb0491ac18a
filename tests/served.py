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


METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"OPTIONS ")


@contextmanager
def forwarding_proxy(target_port: int, forwarded_for: str = "192.0.2.7") -> Iterator[str]:
    """A reverse proxy on a port of its own in front of 127.0.0.1:`target_port`, as one in front
    of a dashboard would be: every request it passes on, the WebSocket upgrade included, says
    `X-Forwarded-For: forwarded_for`. Yields its address."""
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def pipe(source: socket.socket, sink: socket.socket, inject: bool) -> None:
        try:
            while data := source.recv(65536):
                line, _, rest = data.partition(b"\r\n")
                if inject and line.startswith(METHODS) and line.endswith(b" HTTP/1.1"):
                    data = line + f"\r\nX-Forwarded-For: {forwarded_for}\r\n".encode() + rest
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", target_port))
            threading.Thread(target=pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client, False), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.close()
