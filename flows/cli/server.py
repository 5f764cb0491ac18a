"""The verbs of whoever keeps Bluelight running on a server: `deploy` (the systemd units for the
Prefect server, the nightly load and the dashboard, filled in for this install)."""

from __future__ import annotations

import argparse
import sys

from flows import deploy as units
from flows.settings import Settings


def deploy(args: argparse.Namespace, settings: Settings) -> int:
    """Print the units, the settings file and the install script, or write them into --out."""
    if not args.print:
        print("bluelight deploy installs nothing itself: add --print", file=sys.stderr)
        return 2
    try:
        install = units.install_for(args.home or settings.home, args.user)
        files = units.render(install)
    except units.DeployError as error:
        print(error, file=sys.stderr)
        return 2
    if args.out is None:
        for name, text in files.items():
            print(f"# ==> {name} <==\n{text}")
        return 0
    written = units.write(files, args.out)
    print(f"Wrote {', '.join(path.name for path in written)} to {args.out}.")
    print(f"To install them, as root: sh {args.out.resolve() / units.INSTALL_SCRIPT}, which runs:")
    for command in units.install_commands(install):
        print(f"  {command}")
    print(f"Then set what you need in {units.ENV_FILE} and restart the services.")
    return 0
