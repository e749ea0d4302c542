"""A run killed with kill -9 and restarted from its last STATE loses nothing."""

from __future__ import annotations

import pytest

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, bookmark_values, twilio_config
from tests.tap_runner import catalog_selecting, run_tap_and_kill, run_tap_process

STORES = {MONITOR_EVENTS: "events", MONITOR_ALERTS: "alerts"}


@pytest.mark.parametrize("stream", STORES)
def test_kill_and_resume_loses_nothing(emulator, stream):
    emulator.latency = 0.02
    config = twilio_config(emulator, page_size=5, lookback_window_minutes=0)
    catalog = catalog_selecting(config, [stream])

    def some_days_committed(messages: list[dict]) -> bool:
        """Killed only once some days are committed, so the resume really starts mid-way."""
        states = [m["value"] for m in messages if m["type"] == "STATE"]
        return sum(1 for state in states if bookmark_values(state, stream)) >= 5

    killed = run_tap_and_kill(config, catalog=catalog, kill_when=some_days_committed)
    resumed = run_tap_process(config, state=killed.final_state, catalog=catalog)

    assert resumed.returncode == 0, resumed.stderr
    expected = {record["sid"] for record in getattr(emulator.monitor, STORES[stream])[DEFAULT_ACCOUNT_SID]}
    first = {record["sid"] for record in killed.records[stream]}
    second = {record["sid"] for record in resumed.records[stream]}
    assert first, "the first run emitted records before it was killed"
    assert first != expected, "the first run must have been cut short"
    assert first | second == expected
    # The resume starts at the last committed day, not from scratch.
    assert len(second) < len(expected)
