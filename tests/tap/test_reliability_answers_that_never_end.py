"""An answer that never ends: headers, then a body trickled a byte at a time (each read quick, the
whole never done), or half a body and then nothing on a connection kept open. The whole answer is
bounded by `request_timeout_seconds` and retried like any timeout; every record is emitted once."""

from __future__ import annotations

import pytest

from tests.common import MONITOR_EVENTS, assert_each_once, twilio_config
from tests.monitor_helpers import events_of
from tests.tap_runner import catalog_selecting, run_tap

TIMEOUT_SECONDS = 2


@pytest.fixture
def events_only(emulator):
    config = twilio_config(emulator, page_size=50, max_request_retries=3, request_timeout_seconds=TIMEOUT_SECONDS)
    return config, catalog_selecting(config, [MONITOR_EVENTS])


def _assert_complete(emulator, run):
    assert run.returncode == 0, run.stderr
    sids = [record["sid"] for record in run.records[MONITOR_EVENTS]]
    assert_each_once(sids, "record")
    assert set(sids) == {event["sid"] for event in events_of(emulator)}


def test_a_body_trickled_a_byte_at_a_time_is_bounded_and_retried(emulator, events_only):
    config, catalog = events_only
    # A byte every 0.1 s: no single read waits anywhere near the timeout, the page would take an hour.
    emulator.faults.add("/v1/Events", kind="trickle", delay=0.1, times=1)

    run = run_tap(config, catalog=catalog)

    _assert_complete(emulator, run)
    assert "ReadTimeout on GET" in run.stderr
    assert run.run_report["totals"]["retries"]["timeout"] == 1


def test_a_body_that_stops_without_closing_is_bounded_and_retried(emulator, events_only):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", kind="stall", delay=60.0, times=1)

    run = run_tap(config, catalog=catalog)

    _assert_complete(emulator, run)
    assert run.run_report["totals"]["retries"]["timeout"] == 1
    assert "Traceback" not in run.stderr
