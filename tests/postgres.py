"""A real PostgreSQL for the tests: Debian's server, started with initdb and pg_ctl in a temporary
directory of its own, on a port and a Unix socket no other server uses, stopped and removed after.

PostgreSQL refuses to run as root, and CI runs the tests as root. Then the server's programs run
as the `postgres` user Debian's package makes (or `nobody` where there is none), through
subprocess's own `user=`/`group=`, and the directory is made in the system's temporary folder
and given to that user (pytest's own temporary folders are root's alone). The test process
itself, root or not, reaches the server through its socket, which is trusted; TCP on 127.0.0.1
asks for a password (SCRAM), as a server on another machine would.

pytest-postgresql is not used: it runs pg_ctl as the current user, so it fails as root too, and
brings three packages (psycopg, mirakuru, port-for) for what is a few commands here.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "bluelight_admin"
# Quick and forgetful: a test server is thrown away, so nothing needs to reach the disk.
TEST_SERVER_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresMissing(RuntimeError):
    """Debian's PostgreSQL server is not installed."""


def bin_dir() -> Path:
    """The folder of the server's programs: on PATH, else Debian's newest
    `/usr/lib/postgresql/<major>/bin`."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresMissing(
            "PostgreSQL's server is not installed (apt-get install postgresql); .ci/run installs it"
        )
    return found[-1].parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Postgres:
    """A running server: where it listens and how to reach it."""

    directory: Path
    port: int
    password: str = field(repr=False)
    run_as: str | None
    bin: Path
    started_seconds: float = 0.0

    @property
    def socket_dir(self) -> Path:
        return self.directory / "socket"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER, **more: str) -> str:
        """A libpq connection string through the server's Unix socket (trusted)."""
        parts = {"dbname": dbname, "host": str(self.socket_dir), "port": str(self.port)}
        parts["user"] = user
        parts.update(more)
        return " ".join(f"{key}={value}" for key, value in parts.items())

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL as the superuser through psql (stops at the first error); its output."""
        done = subprocess.run(
            [
                str(self.bin / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set=ON_ERROR_STOP=1",
                self.dsn(dbname),
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str) -> str:
        """A new database; its socket connection string, as the superuser."""
        self.psql(f'create database "{name}"')
        return self.dsn(name)


def _server_user() -> str | None:
    """Who runs the server's programs: None (this process's user) unless this is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresMissing("running as root and there is no `postgres` or `nobody` user")


def _run(command: list[str], run_as: str | None, **kwargs) -> subprocess.CompletedProcess:
    as_user = {}
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    return subprocess.run(command, capture_output=True, text=True, check=True, **as_user, **kwargs)


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """Start a PostgreSQL server of its own; stop it and remove its directory after."""
    programs = bin_dir()
    run_as = _server_user()
    directory = Path(tempfile.mkdtemp(prefix="bluelight-pg-"))
    server = Postgres(directory, free_port(), secrets.token_urlsafe(16), run_as, programs)
    server.socket_dir.mkdir()
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        for path in (directory, server.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    started = time.perf_counter()
    password_file = directory / "superuser-password"
    password_file.write_text(server.password)
    if run_as is not None:
        os.chown(password_file, pwd.getpwnam(run_as).pw_uid, -1)
    environment = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": str(directory)}
    try:
        _run(
            [
                str(programs / "initdb"),
                f"--pgdata={server.data_dir}",
                f"--username={SUPERUSER}",
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
            ],
            run_as,
            env=environment,
        )
        password_file.unlink()
        options = [
            f"-p {server.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={server.socket_dir}",
            *(f"-c {option}" for option in TEST_SERVER_OPTIONS),
        ]
        _run(
            [
                str(programs / "pg_ctl"),
                "start",
                "--wait",
                f"--pgdata={server.data_dir}",
                f"--log={directory / 'server.log'}",
                f"--options={' '.join(options)}",
            ],
            run_as,
            env=environment,
        )
    except subprocess.CalledProcessError as error:
        log = directory / "server.log"
        told = log.read_text() if log.exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr.strip()}\n{told}") from error
    server.started_seconds = time.perf_counter() - started
    try:
        yield server
    finally:
        try:
            _run(
                [
                    str(programs / "pg_ctl"),
                    "stop",
                    "--wait",
                    "--mode=fast",
                    f"--pgdata={server.data_dir}",
                ],
                run_as,
                env=environment,
            )
        finally:
            shutil.rmtree(directory, ignore_errors=True)
