"""Put on PYTHONPATH of a subprocess (a Prefect server, `bluelight serve` and the flow runs it
starts) to note every attempt to reach a host that is not this machine, one line each, in the
file $BLUELIGHT_NETWATCH_LOG: the same watch tests/conftest.py keeps on the test process."""

import os
import sys

_LOG = os.environ.get("BLUELIGHT_NETWATCH_LOG")
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", None}


def _outside(host) -> bool:
    host = host.decode() if isinstance(host, bytes) else host
    return host not in _LOCAL and not str(host).startswith("127.")


def _watch(event: str, args: tuple) -> None:
    if event == "socket.getaddrinfo" and _outside(args[0]):
        what = f"lookup {args[0]}"
    elif event == "socket.connect" and isinstance(args[1], tuple) and _outside(args[1][0]):
        what = f"connect {args[1]}"
    else:
        return
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {' '.join(sys.argv[:3])}: {what}\n")


if _LOG:
    sys.addaudithook(_watch)
