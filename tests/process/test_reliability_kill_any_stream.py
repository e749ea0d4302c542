"""Every stream of the tap, killed with kill -9 part-way and resumed from its last STATE, loses nothing."""

from __future__ import annotations

import datetime as dt

from tests.tap_runner import run_tap_and_kill, run_tap_process


def _keys(run, stream: str) -> set[str]:
    return {record.get("sid") or record["id"] for record in run.records[stream]}


def test_a_killed_run_of_all_streams_resumes_without_losing_a_record(emulator):
    config = emulator.tap_config(
        start_date=(dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat(), page_size=5, lookback_window_minutes=0
    )
    complete = run_tap_process(config)
    assert complete.returncode == 0, complete.stderr
    streams = set(complete.records)
    assert len(streams) == 8, "every stream has records in the emulator"
    emulator.latency = 0.01

    half = sum(len(records) for records in complete.records.values()) // 2
    killed = run_tap_and_kill(
        config, kill_when=lambda messages: sum(1 for m in messages if m["type"] == "RECORD") >= half
    )
    resumed = run_tap_process(config, state=killed.final_state if killed.states else None)

    assert resumed.returncode == 0, resumed.stderr
    for stream in streams:
        assert _keys(killed, stream) | _keys(resumed, stream) == _keys(complete, stream), stream
    assert any(_keys(killed, stream) != _keys(complete, stream) for stream in streams), "the kill cut the run short"
