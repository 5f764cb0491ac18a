"""A PostgreSQL server for the lake's catalog, started by the project: Debian's server, a cluster
made with initdb in a directory of its own and run with pg_ctl, on a port and a Unix socket no
other server uses.

Two uses. `catalog(directory)` / `stop(directory)` keep a catalog for a user (`bluelight catalog
start|stop`, and the bench): a durable cluster in the directory given, reached only through its
socket (no TCP), the socket open to this user alone, with a database `bluelight` owned by a login
role `bluelight_loader` that has no password. `postgres_server()` is the tests' throw-away
server in the system's temporary folder, started with options that skip the disk, stopped and
removed after; it also listens on 127.0.0.1, where a password (SCRAM) is asked as a server on
another machine would.

PostgreSQL refuses to run as root, and CI runs as root. Then the server's programs run as the
`postgres` user Debian's package makes (or `nobody` where there is none), through subprocess's
own `user=`/`group=`, and the directory is given to that user. This process, root or not,
reaches the server through its socket, where the cluster trusts the operating system's
permissions on the socket (initdb's `--auth-local=trust`).

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
LOADER = "bluelight_loader"
DATABASE = "bluelight"
# Quick and forgetful: a test server is thrown away, so nothing needs to reach the disk.
TEST_SERVER_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
# A user's catalog keeps its own settings in this file of the cluster, included by
# postgresql.conf, so a later `start` needs no options.
SETTINGS_FILE = "bluelight.conf"
INSTALL = "apt-get install postgresql"
# Where Debian's packages put each major version's programs.
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")


class PostgresMissing(RuntimeError):
    """Debian's PostgreSQL server is not installed."""


def bin_dir() -> Path:
    """The folder of the server's programs: on PATH, else Debian's newest
    `/usr/lib/postgresql/<major>/bin`."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(
        DEBIAN_PROGRAMS.glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresMissing(f"PostgreSQL's server is not installed ({INSTALL}).")
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

    @property
    def catalog(self) -> str:
        """The lake's catalog on this server, as `BLUELIGHT_LAKE_CATALOG` takes it: the loader's
        database through the socket, no password."""
        return self.dsn(DATABASE, LOADER)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL as the superuser through psql (stops at the first error); its output."""
        done = subprocess.run(
            [str(self.bin / "psql"), "--no-psqlrc", "--quiet", "--tuples-only", "--no-align"]
            + ["--set=ON_ERROR_STOP=1", self.dsn(dbname)],
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

    def environment(self) -> dict[str, str]:
        return {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": str(self.directory)}


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


def _as_user(run_as: str | None) -> dict:
    if run_as is None:
        return {}
    entry = pwd.getpwnam(run_as)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _run(command: list[str], run_as: str | None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, capture_output=True, text=True, check=True, **_as_user(run_as), **kwargs
    )


def _give(path: Path, run_as: str | None) -> None:
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _initdb(server: Postgres) -> None:
    """Make the cluster: the superuser with a random password nobody keeps (TCP, where one is
    asked, is for the roles given one later), the socket trusted."""
    password_file = server.directory / "superuser-password"
    password_file.write_text(server.password)
    _give(password_file, server.run_as)
    try:
        _run(
            [str(server.bin / "initdb"), f"--pgdata={server.data_dir}", f"--username={SUPERUSER}"]
            + [f"--pwfile={password_file}", "--auth-local=trust", "--auth-host=scram-sha-256"]
            + ["--encoding=UTF8", "--no-sync"],
            server.run_as,
            env=server.environment(),
        )
    finally:
        password_file.unlink(missing_ok=True)


def _pg_ctl(server: Postgres, *arguments: str) -> None:
    _run(
        [str(server.bin / "pg_ctl"), *arguments, "--wait", f"--pgdata={server.data_dir}"],
        server.run_as,
        env=server.environment(),
    )


def _start(server: Postgres, options: list[str]) -> None:
    log = server.directory / "server.log"
    try:
        _pg_ctl(server, "start", f"--log={log}", f"--options={' '.join(options)}")
    except subprocess.CalledProcessError as error:
        told = log.read_text()[-3000:] if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr.strip()}\n{told}") from error


def _new(directory: Path, port: int) -> Postgres:
    server = Postgres(directory, port, secrets.token_urlsafe(16), _server_user(), bin_dir())
    server.socket_dir.mkdir(mode=0o700, exist_ok=True)
    for path in (directory, server.socket_dir):
        _give(path, server.run_as)
    if server.run_as is not None:
        _reachable(directory, server.run_as)
    return server


def _reachable(directory: Path, run_as: str) -> None:
    """Refuse a directory the server's user cannot write (as root, where a parent such as
    /root is closed to it)."""
    try:
        _run(["test", "-w", str(directory)], run_as)
    except subprocess.CalledProcessError:
        raise RuntimeError(
            f"As root the server runs as `{run_as}`, which cannot reach {directory}: give a "
            "directory whose every parent it may enter (under /srv or /var/lib, say)."
        ) from None


@contextmanager
def postgres_server(options: tuple[str, ...] = TEST_SERVER_OPTIONS) -> Iterator[Postgres]:
    """Start a PostgreSQL server of its own (the tests'; `options` are the server's settings);
    stop it and remove its directory after."""
    bin_dir()  # refused before anything is made when the server is not installed
    server = _new(Path(tempfile.mkdtemp(prefix="bluelight-pg-")), free_port())
    started = time.perf_counter()
    try:
        _initdb(server)
        settings = [f"unix_socket_directories={server.socket_dir}", *options]
        _start(
            server,
            [f"-p {server.port}", "-c listen_addresses=127.0.0.1"]
            + [f"-c {option}" for option in settings],
        )
    except (subprocess.CalledProcessError, RuntimeError) as error:
        shutil.rmtree(server.directory, ignore_errors=True)
        told = getattr(error, "stderr", None) or str(error)
        raise RuntimeError(f"PostgreSQL did not start: {told.strip()}") from error
    server.started_seconds = time.perf_counter() - started
    try:
        yield server
    finally:
        try:
            _pg_ctl(server, "stop", "--mode=fast")
        finally:
            shutil.rmtree(server.directory, ignore_errors=True)


def _settings_text(server: Postgres) -> str:
    return (
        f"port = {server.port}\n"
        "listen_addresses = ''\n"  # the socket only: nothing on the network
        f"unix_socket_directories = '{server.socket_dir}'\n"
        "unix_socket_permissions = 0700\n"  # the server's own user (and root) only
    )


def _read_port(data_dir: Path) -> int:
    for line in (data_dir / SETTINGS_FILE).read_text().splitlines():
        if line.startswith("port = "):
            return int(line.split("=")[1])
    raise RuntimeError(f"no port in {data_dir / SETTINGS_FILE}")


def running(directory: Path) -> bool:
    """Whether the catalog in `directory` is running (pg_ctl's status: a stale postmaster.pid
    left by a crash is not a running server)."""
    if not (directory / "data" / "PG_VERSION").exists():
        return False
    done = subprocess.run(
        [str(bin_dir() / "pg_ctl"), "status", f"--pgdata={directory / 'data'}"],
        capture_output=True,
        **_as_user(_server_user()),
    )
    return done.returncode == 0


def catalog(directory: Path, port: int | None = None) -> Postgres:
    """A user's catalog in `directory`, running: made there first when it holds no cluster (the
    loader's role and database made too), started when stopped; `port` moves it to that port.
    Refused (PostgresMissing) when PostgreSQL's server is not installed."""
    bin_dir()  # refused before anything is made when the server is not installed
    directory = directory.expanduser().resolve()
    made = (directory / "data" / "PG_VERSION").exists()
    if not made and directory.exists() and any(directory.iterdir()):
        raise RuntimeError(f"{directory} is not empty and holds no catalog: give a new directory")
    new_directory = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    chosen = port or (_read_port(directory / "data") if made else free_port())
    try:
        server = _new(directory, chosen)
    except RuntimeError:
        if new_directory:
            shutil.rmtree(directory)  # made here for nothing
        raise
    if not made:
        try:
            _initdb(server)
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"initdb failed: {error.stderr.strip()}") from error
        with open(server.data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"include '{SETTINGS_FILE}'\n")
    if not running(directory):
        (server.data_dir / SETTINGS_FILE).write_text(_settings_text(server))
        started = time.perf_counter()
        _start(server, [])
        server.started_seconds = time.perf_counter() - started
    if not made:
        server.psql(f'create role "{LOADER}" login')
        server.psql(f'create database "{DATABASE}" owner "{LOADER}"')
    return server


def stop(directory: Path, *, remove: bool = False) -> bool:
    """Stop the catalog in `directory` (whether it was running); `remove`: delete the directory,
    the lake's catalog with it, too."""
    directory = directory.expanduser().resolve()
    if not (directory / "data" / "PG_VERSION").exists():
        raise RuntimeError(f"no catalog in {directory}")
    was_running = running(directory)
    if was_running:
        server = _new(directory, _read_port(directory / "data"))
        _pg_ctl(server, "stop", "--mode=fast")
    if remove:
        shutil.rmtree(directory)
    return was_running


@contextmanager
def catalog_for_run(directory: Path) -> Iterator[Postgres]:
    """A catalog made in `directory` for one run (the bench), stopped and removed after."""
    server = catalog(directory)
    try:
        yield server
    finally:
        stop(directory, remove=True)
