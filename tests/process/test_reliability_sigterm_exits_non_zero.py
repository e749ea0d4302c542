"""A run stopped with SIGTERM (Airflow's timeout, a deploy) writes STATE over the windows it read
whole and exits non-zero, so that a scheduler never takes a stopped run for a finished one; the
next run resumes from that STATE and loses nothing."""

from __future__ import annotations

import signal

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS, bookmark_values, twilio_config
from tests.tap_runner import catalog_selecting, run_tap_and_kill, run_tap_process


def test_sigterm_writes_state_and_exits_non_zero_and_the_next_run_loses_nothing(emulator):
    emulator.latency = 0.02
    config = twilio_config(emulator, page_size=5, lookback_window_minutes=0)
    catalog = catalog_selecting(config, [MONITOR_EVENTS])

    def some_windows_whole(messages: list[dict]) -> bool:
        states = [m["value"] for m in messages if m["type"] == "STATE"]
        return sum(1 for state in states if bookmark_values(state, MONITOR_EVENTS)) >= 3

    stopped = run_tap_and_kill(config, catalog=catalog, kill_when=some_windows_whole, signal_number=signal.SIGTERM)
    resumed = run_tap_process(config, state=stopped.final_state, catalog=catalog)

    assert stopped.returncode == 128 + signal.SIGTERM
    assert stopped.messages[-1]["type"] == "STATE", "the last word of a stopped run is its STATE"
    assert resumed.returncode == 0, resumed.stderr
    expected = {record["sid"] for record in emulator.monitor.events[DEFAULT_ACCOUNT_SID]}
    first = {record["sid"] for record in stopped.records[MONITOR_EVENTS]}
    second = {record["sid"] for record in resumed.records[MONITOR_EVENTS]}
    assert first and first != expected, "stopped part-way"
    assert first | second == expected
    assert len(second) < len(expected), "the next run resumed from the STATE, not from the start"
