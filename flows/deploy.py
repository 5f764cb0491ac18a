"""Bluelight's services on one server: the systemd units in deploy/ (the Prefect server, the
nightly `bluelight serve`, the dashboard) and their settings file, filled in for this install,
and the script that installs them (`bluelight deploy --print`).

The templates name what differs between installs as @NAME@: @BIN@ the install's .venv/bin,
@HOME@ the data directory (the services' only writable path), @USER@ the account they run as,
@ENV_FILE@ the settings file, @TELEMETRY_OFF@ the switches of flows/settings.py,
@READ_ONLY_BINDS@ what the services read from the home folders their sandbox hides (a Python
installed by pyenv in a user's home, for one: a venv's python is a link to it).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from flows.settings import PROJECT_ROOT, TELEMETRY_OFF

TEMPLATES = PROJECT_ROOT / "deploy"
UNITS = ("bluelight-prefect.service", "bluelight-serve.service", "bluelight-dashboard.service")
SETTINGS_TEMPLATE = "bluelight.env"
INSTALL_SCRIPT = "install.sh"
ADMIN = "bluelight-admin"  # bluelight as the services run it, for the operator's commands
ADMIN_DIR = Path("/usr/local/sbin")
ENV_FILE = Path("/etc/bluelight/bluelight.env")
UNIT_DIR = Path("/etc/systemd/system")
# Hidden from every service by ProtectHome=tmpfs: what they read from there is bound in
# read-only; the data directory, which they write, may not lie there.
HIDDEN = (Path("/home"), Path("/root"), Path("/run/user"))
# A path a unit names as it is: no spaces, and no % or $ that systemd would expand.
PLAIN_PATH = re.compile(r"/[A-Za-z0-9._/+-]*")
ACCOUNT = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
# The folder of the data directory the services keep for themselves: their HOME (the account's
# home too), Prefect's database and UI files; none of it is evidence.
SERVICES = "services"


class DeployError(ValueError):
    """An install the units cannot serve: the message says what to change."""


@dataclass(frozen=True)
class Install:
    """What the units are filled in with."""

    bin_dir: Path
    home: Path
    user: str
    read_only_binds: tuple[Path, ...] = ()


def install_for(home: Path, user: str, bin_dir: Path | None = None) -> Install:
    """This install (the .venv whose Python runs this, by default), checked for the units."""
    bin_dir = bin_dir or Path(sys.executable).parent
    home = Path(home).expanduser().resolve()
    if user == "root" or not ACCOUNT.fullmatch(user):
        raise DeployError(
            f"--user {user!r}: the services run as an unprivileged account; give its name, "
            "e.g. bluelight (lower case letters, digits, - and _)"
        )
    for command in ("bluelight", "prefect"):
        if not (bin_dir / command).is_file():
            raise DeployError(
                f"No {command} command in {bin_dir}: run `bluelight deploy` from the install's "
                ".venv (bash .ci/setup makes it)"
            )
    _check_path(home, "the data directory (--home)")
    if _hidden(home):
        raise DeployError(
            f"The data directory (--home), {home}, is under {_hidden(home)}, which the services' "
            "sandbox hides (ProtectHome=tmpfs): use a folder outside /home, /root and /run/user, "
            "e.g. /srv/bluelight"
        )
    read = [bin_dir.parent.resolve(), PROJECT_ROOT, Path(sys.base_prefix).resolve()]
    for path in (bin_dir, *read):
        _check_path(path, "the install")
    return Install(bin_dir, home, user, read_only_binds(read))


def read_only_binds(read: list[Path]) -> tuple[Path, ...]:
    """Of the folders the services read, those the sandbox hides, less any inside another."""
    hidden = [p for p in read if _hidden(p)]
    return tuple(dict.fromkeys(p for p in hidden if not any(q in p.parents for q in hidden)))


def _check_path(path: Path, what: str) -> None:
    if not PLAIN_PATH.fullmatch(str(path)):
        raise DeployError(
            f"{what}, {path}: a unit names it as it is, so only letters, digits and . _ / + - "
            "(no spaces, % or $), e.g. /srv/bluelight for the data, /opt/bluelight for the install"
        )


def _hidden(path: Path) -> Path | None:
    """The folder the sandbox hides that `path` lies in, if any."""
    return next((h for h in HIDDEN if path == h or h in path.parents), None)


def render(install: Install) -> dict[str, str]:
    """Each file to write, by name: the three units, the settings file, the operator's
    `bluelight-admin` and the install script."""
    values = {
        "@BIN@": str(install.bin_dir),
        "@HOME@": str(install.home),
        "@USER@": install.user,
        "@ENV_FILE@": str(ENV_FILE),
        "@TELEMETRY_OFF@": "\n".join(f"Environment={k}={v}" for k, v in TELEMETRY_OFF.items()),
        "@READ_ONLY_BINDS@\n": "".join(f"BindReadOnlyPaths={p}\n" for p in install.read_only_binds),
    }
    files = {}
    for name in (*UNITS, SETTINGS_TEMPLATE, ADMIN):
        text = (TEMPLATES / name).read_text()
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        left = PLACEHOLDER.findall(text)
        if left:
            raise DeployError(f"deploy/{name} names {', '.join(left)}, which nothing fills in")
        files[name] = text
    files[INSTALL_SCRIPT] = install_script(install)
    return files


def install_commands(install: Install) -> list[str]:
    """The commands, run as root from the folder the files are in, that install the services and
    start them now and at every boot; an existing settings file is kept."""
    user, home = install.user, install.home
    return [
        f"id -u {user} >/dev/null 2>&1 || useradd --system --user-group --home-dir "
        f"{home / SERVICES} --shell /usr/sbin/nologin {user}",
        f"install -d -o {user} -g {user} -m 0750 {home} {home / SERVICES}",
        f"install -d -m 0755 {ENV_FILE.parent}",
        f"[ -e {ENV_FILE} ] || install -m 0600 {SETTINGS_TEMPLATE} {ENV_FILE}",
        f"install -m 0644 {' '.join(UNITS)} {UNIT_DIR}/",
        f"install -m 0755 {ADMIN} {ADMIN_DIR}/",
        "systemctl daemon-reload",
        f"systemctl enable --now {' '.join(UNITS)}",
    ]


def install_script(install: Install) -> str:
    lines = [
        "#!/bin/sh",
        f"# Installs Bluelight's services for {install.home}, running as {install.user}.",
        "# Run as root: sh install.sh (from any folder; it uses the files beside it).",
        "set -eu",
        'cd "$(dirname "$0")"',
        *install_commands(install),
    ]
    return "\n".join(lines) + "\n"


def write(files: dict[str, str], out: Path) -> list[Path]:
    """Write the files into `out` (made if missing), the install script executable."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text)
        path.chmod(0o755 if name in (INSTALL_SCRIPT, ADMIN) else 0o644)
        written.append(path)
    return written
