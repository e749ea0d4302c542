"""Fixtures for every tier of the suite.

The tests are in four folders by what they need: unit/, tap/ (the tap in the pytest process),
process/ (the tap as a process: kill -9, exit status, command line) and pipeline/ (Meltano, dbt,
Airflow, PostgreSQL). tests/README.md says which folder a new test file goes in, rule by rule.
"""

from __future__ import annotations

import functools
import re
import sys
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import Emulator
from tests.telnyx_helpers import telnyx_emulator

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A fresh emulator on a free loopback port: the default data set, or in a module marked
    `pytest.mark.telnyx_data`, the Telnyx one (`telnyx_helpers.telnyx_emulator`)."""
    start = telnyx_emulator if request.node.get_closest_marker("telnyx_data") else Emulator
    with start() as running:
        yield running


@pytest.fixture(params=["date_created", "date_generated"])
def alerts_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """An emulator without Alerts of its own, once for each timestamp its Alerts filter may
    match: Twilio does not document which, so every Alerts behaviour is tested under both."""
    with Emulator(monitor_alerts=0, alerts_filter_field=request.param) as running:
        yield running


#: A test file holding one of these shares a fixture among its tests: a whole tap run, the SDK
#: standard suite's sync.
SHARED_FIXTURE = re.compile(r"""scope=["'](module|class)["']|get_tap_test_class\(""")


@functools.cache
def shares_a_fixture(path: str) -> bool:
    return bool(SHARED_FIXTURE.search((ROOT / path).read_text()))


#: Where the last run's test durations are kept (pytest's cache), for the order of the next run.
DURATIONS = "tap-events/durations"


#: This run's durations by test (setup, call and teardown), as the reports come in.
RUN_DURATIONS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    RUN_DURATIONS[report.nodeid] = RUN_DURATIONS.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The durations of this run's tests, kept with those of earlier runs (by the main process)."""
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not RUN_DURATIONS:
        return
    cache.set(DURATIONS, {**cache.get(DURATIONS, {}), **RUN_DURATIONS})


def pytest_xdist_make_scheduler(config: pytest.Config, log: t.Any) -> t.Any:
    """`--dist loadgroup`, as `dev.py test` runs: a file whose tests share a module- or class-scoped
    fixture runs whole on one pytest-xdist worker, so that its fixture is set up once and not
    once per worker; every other test goes to whichever worker is free, the longest first (by
    the last run's durations, when pytest's cache has them). xdist's own loadgroup reads
    `xdist_group` marks, which pytest 9 no longer hands it."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    cache = getattr(config, "cache", None)  # none with -p no:cacheprovider
    known: dict[str, float] = cache.get(DURATIONS, {}) if cache is not None else {}

    class SharedFixturesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if shares_a_fixture(path) else nodeid

        def _assign_work_unit(self, node: t.Any) -> None:
            """The units still to hand out, longest first, before the first is handed out
            (the collection itself stays in the workers' order: they run tests by index)."""
            if known and not getattr(self, "longest_first", False):
                units = sorted(self.workqueue.items(), key=lambda unit: -sum(known.get(n, 1.0) for n in unit[1]))
                self.workqueue.clear()
                self.workqueue.update(units)
                self.longest_first = True
            super()._assign_work_unit(node)

    return SharedFixturesTogether(config, log)
