"""Fixtures for every tier of the suite.

The tests are in four folders by what they need: unit/, tap/ (the tap in the pytest process),
process/ (the tap as a process: kill -9, exit status, command line) and pipeline/ (Meltano, dbt,
Airflow, PostgreSQL). tests/README.md says which folder a new test file goes in, rule by rule.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import Emulator
from tests.telnyx_helpers import telnyx_emulator


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
