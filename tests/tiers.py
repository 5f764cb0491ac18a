"""The fast tier: `pytest -m "not slow"` runs in under a minute and covers each module's unit
behaviour; the full suite (plain `pytest`, CI's command) adds the tests that run real nights.

A test is slow when it, or any fixture it uses, runs the nightly flow, dbt, a served dashboard or
a subprocess of the `bluelight` command: found from the source of the test and of every fixture
in its closure (and of the fixtures one asks for by name, `request.getfixturevalue("...")`, as
demo_on_each does), so a new test is put in its tier without anyone listing it.
"""

from __future__ import annotations

import inspect
import re
from functools import cache

import pytest

# What a test or fixture calls when it does the slow work.
SLOW_CALLS = (
    "run_flow(",
    "published_night(",
    "nightly(",
    "write_demo_inbox(",
    "invoke_dbt(",
    "run_dbt(",
    "subprocess.",
    "AppTest.",
    "chromium_or_skip(",
    "run_bench(",
    "run_lake_bench(",
    'bluelight(home, "run"',  # the `bluelight run` verb in this process: a night
    'bluelight(home, "upgrade"',  # `bluelight upgrade`, which runs a night
)


@cache
def _slow_source(function) -> bool:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return any(call in source for call in SLOW_CALLS)


def _asked_by_name(function) -> set[str]:
    """The names in quotes in a fixture that asks for fixtures by name: those it may ask for."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return set()
    return set(re.findall(r'"(\w+)"', source)) if "getfixturevalue(" in source else set()


def _slow_fixture(item: pytest.Item, definition, seen: set[str]) -> bool:
    if _slow_source(definition.func):
        return True
    for name in _asked_by_name(definition.func) - seen:
        seen.add(name)
        found = item.session._fixturemanager.getfixturedefs(name, item) or ()
        if any(_slow_fixture(item, asked, seen) for asked in found):
            return True
    return False


def is_slow(item: pytest.Item) -> bool:
    if _slow_source(getattr(item, "function", None)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    seen = set(info.name2fixturedefs)
    return any(
        _slow_fixture(item, definition, seen)
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )


RUNS_SLOW = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    """Whether the tests chosen (after `-m`) include a slow one: the Prefect server waits on it."""
    session.config.stash[RUNS_SLOW] = any(i.get_closest_marker("slow") for i in session.items)
