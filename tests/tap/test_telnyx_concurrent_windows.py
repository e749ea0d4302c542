"""Telnyx time windows are read concurrently, and still written oldest first."""

from __future__ import annotations

import pytest

from tests.common import TELNYX_AUDIT_EVENTS
from tests.tap_runner import run_tap
from tests.telnyx_helpers import events, telnyx_config

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


@pytest.mark.parametrize("max_concurrent_requests", [1, 3])
def test_requests_in_flight_reach_max_concurrent_requests_and_never_exceed_it(emulator, max_concurrent_requests):
    emulator.latency = 0.05
    run = run_tap(telnyx_config(emulator, page_size=20, max_concurrent_requests=max_concurrent_requests))

    assert run.returncode == 0, run.stderr
    assert emulator.peak_in_flight == max_concurrent_requests


def test_windows_read_concurrently_are_written_in_ascending_created_at_order_exactly_once(emulator):
    emulator.latency = 0.02
    run = run_tap(telnyx_config(emulator, page_size=20, max_concurrent_requests=4))

    assert run.returncode == 0, run.stderr
    written = [(record["created_at"], record["id"]) for record in run.records[TELNYX_AUDIT_EVENTS]]
    assert [created for created, _ in written] == sorted(created for created, _ in written)
    assert sorted(key for _, key in written) == sorted(event["id"] for event in events(emulator))
