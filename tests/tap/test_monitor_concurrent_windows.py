"""Day windows are read concurrently, never more at once than `max_concurrent_requests`."""

from __future__ import annotations

import pytest

from tests.common import MONITOR_EVENTS, bookmark_values, twilio_config
from tests.monitor_helpers import events_of
from tests.tap_runner import catalog_selecting, run_tap


@pytest.mark.parametrize("max_concurrent_requests", [1, 3])
def test_requests_in_flight_reach_max_concurrent_requests_and_never_exceed_it(emulator, max_concurrent_requests):
    emulator.latency = 0.05  # every answer takes long enough for the next requests to overlap it
    # Pages of 50: the range holds several pages, so it is read in day windows, not in one request.
    config = twilio_config(emulator, max_concurrent_requests=max_concurrent_requests, page_size=50)
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    assert emulator.peak_in_flight == max_concurrent_requests


def test_pages_of_several_days_are_interleaved_and_state_claims_only_days_written_whole(emulator):
    """Pages are written as they arrive, whichever day they belong to; a STATE's bookmark covers
    only days whose every event was written before it, from the first day on."""
    emulator.latency = 0.02
    # One of the first days answers late: days after it are written before it, whatever the load.
    # (The first request is the probe of the whole range, which its first page shows busy.)
    emulator.faults.add("/v1/Events", kind="delay", delay=1.0, skip=1)
    config = twilio_config(emulator, page_size=50, max_concurrent_requests=4)
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    events_by_day: dict[str, set[str]] = {}
    for event in events_of(emulator):
        events_by_day.setdefault(event["event_date"][:10], set()).add(event["sid"])
    written: set[str] = set()
    days_in_order: list[str] = []
    for message in run.messages:
        if message["type"] == "RECORD":
            written.add(message["record"]["sid"])
            days_in_order.append(message["record"]["event_date"][:10])
        elif message["type"] == "STATE":
            for bookmark in bookmark_values(message["value"], MONITOR_EVENTS):
                covered = [sids for day, sids in events_by_day.items() if day <= bookmark[:10]]
                assert all(sids <= written for sids in covered), "STATE claimed a day not yet written whole"
    assert days_in_order != sorted(days_in_order), "no two days were read at the same time"
    assert written == set().union(*events_by_day.values())
