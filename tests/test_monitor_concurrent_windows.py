"""Day windows are read concurrently, never more at once than `max_concurrent_requests`."""

from __future__ import annotations

import pytest

from tests.tap_runner import catalog_selecting, run_tap

STREAM = "twilio_monitor_events"


@pytest.mark.parametrize("max_concurrent_requests", [1, 3])
def test_requests_in_flight_reach_max_concurrent_requests_and_never_exceed_it(
    emulator, twilio_config, max_concurrent_requests
):
    emulator.latency = 0.05  # every answer takes long enough for the next requests to overlap it
    config = {**twilio_config, "max_concurrent_requests": max_concurrent_requests}
    run = run_tap(config, catalog=catalog_selecting(config, [STREAM]))

    assert run.returncode == 0, run.stderr
    assert emulator.peak_in_flight == max_concurrent_requests


def test_days_read_concurrently_are_emitted_in_ascending_order_each_followed_by_its_state(emulator, twilio_config):
    emulator.latency = 0.02
    config = {**twilio_config, "max_concurrent_requests": 4}
    run = run_tap(config, catalog=catalog_selecting(config, [STREAM]))

    assert run.returncode == 0, run.stderr
    days: list[str] = []
    for message in run.messages:
        if message["type"] == "RECORD":
            day = message["record"]["event_date"][:10]
            if not days or days[-1] != day:
                days.append(day)
    assert days == sorted(set(days)), "a day's records were interleaved with another day's"
