"""Starting a night from the command line (`bluelight run`) without a Prefect server of its own.

Prefect then starts a temporary server for the run and gives it 20 s to answer; on a busy 2-core
machine that deadline is missed and the night fails before it loads anything. Here the server
gets the allowance of the settings (`BLUELIGHT_PREFECT_STARTUP_SECONDS`), a start that misses it
is stopped and tried again with the next allowance, and a night that still cannot start is
recorded in runs.jsonl and reported to the operator like any failed night.
"""

from __future__ import annotations

import sys

from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings
from prefect.states import State

from flows.schedule import notify
from flows.schedule.nightly import nightly
from flows.settings import Settings
from flows.warehouse import runlog

# The start of the message Prefect raises when its temporary server misses the deadline.
MISSED_START = "Timed out while attempting to connect to ephemeral Prefect API server"


class ServerDidNotStart(RuntimeError):
    """Prefect's temporary server missed every allowance: the night could not start."""


def run_night(settings: Settings, **parameters) -> State:
    """The nightly flow's final state; raises ServerDidNotStart once every allowance is missed."""
    allowances = settings.prefect_startup_seconds
    for attempt, seconds in enumerate(allowances, start=1):
        try:
            with temporary_settings({PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: seconds}):
                return nightly(home=str(settings.home), return_state=True, **parameters)
        except RuntimeError as error:
            if not str(error).startswith(MISSED_START):
                raise
            SubprocessASGIServer().stop()  # the process that missed its deadline, not left behind
            print(
                f"Prefect's temporary server did not answer within {seconds} s "
                f"(attempt {attempt} of {len(allowances)})",
                file=sys.stderr,
                flush=True,
            )
    raise ServerDidNotStart(
        f"Prefect's temporary server did not answer within {' s, then '.join(map(str, allowances))}"
        " s: the machine is too busy, or the server cannot start (its log is in the run's output)."
        " Raise BLUELIGHT_PREFECT_STARTUP_SECONDS, or run a Prefect server and set PREFECT_API_URL."
    )


def record_failed_start(settings: Settings, error: ServerDidNotStart) -> str:
    """Record a night that could not start as a failed run, tell the operator; its run id."""
    run_id = runlog.new_run_id()

    def report(record: runlog.RunRecord) -> None:
        record.alerts = notify.alerts(record, [], settings)
        subject, text = notify.message(record, settings, f"Run {run_id}: failed\n  error: {error}")
        record.notified = notify.deliver(settings, subject, text, tasks=False)

    try:
        with runlog.recorded_run(settings.run_log, run_id, finish=report):
            raise error
    except ServerDidNotStart:
        pass
    return run_id
