"""An answer that never ends: headers, then a body trickled a byte at a time (each read quick, the
whole never done), or half a body and then nothing on a connection kept open. The whole answer is
bounded by `request_timeout_seconds` and retried like any timeout; every record is emitted once."""

from __future__ import annotations

import pytest

from tests.monitor_helpers import assert_every_event_once, events_only_settings
from tests.tap_runner import run_tap

TIMEOUT_SECONDS = 2


@pytest.fixture
def events_only(emulator):
    return events_only_settings(emulator, page_size=50, max_request_retries=3, request_timeout_seconds=TIMEOUT_SECONDS)


def test_a_body_trickled_a_byte_at_a_time_is_bounded_and_retried(emulator, events_only):
    config, catalog = events_only
    # A byte every 0.1 s: no single read waits anywhere near the timeout, the page would take an hour.
    emulator.faults.add("/v1/Events", kind="trickle", delay=0.1, times=1)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    assert "ReadTimeout on GET" in run.stderr
    assert run.run_report["totals"]["retries"]["timeout"] == 1


def test_a_body_that_stops_without_closing_is_bounded_and_retried(emulator, events_only):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", kind="stall", delay=60.0, times=1)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    assert run.run_report["totals"]["retries"]["timeout"] == 1
    assert "Traceback" not in run.stderr
