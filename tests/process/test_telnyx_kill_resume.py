"""A run killed with SIGKILL resumes from its last STATE and loses no audit event."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.common import TELNYX_AUDIT_EVENTS, parse
from tests.tap_runner import run_tap_and_kill, run_tap_process
from tests.telnyx_helpers import bookmark, events, telnyx_config

LOOKBACK_MINUTES = 10


pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def _records(messages: list[dict]) -> int:
    return sum(message["type"] == "RECORD" for message in messages)


def test_kill_9_mid_run_then_resume_loses_nothing(emulator):
    emulator.latency = 0.03  # slow enough to be killed half way
    config = telnyx_config(emulator, page_size=5, lookback_window_minutes=LOOKBACK_MINUTES)

    killed = run_tap_and_kill(config, kill_when=lambda messages: _records(messages) >= 100)
    saved = [state for state in killed.states if bookmark(state)]
    assert saved, "STATE must have been written before the kill"
    emulator.latency = 0.0
    resumed = run_tap_process(config, state=saved[-1])

    assert resumed.returncode == 0, resumed.stderr
    before = {record["id"] for record in killed.records[TELNYX_AUDIT_EVENTS]}
    after = {record["id"] for record in resumed.records[TELNYX_AUDIT_EVENTS]}
    assert before | after == {event["id"] for event in events(emulator)}
    cutoff = parse(bookmark(saved[-1])) - dt.timedelta(minutes=LOOKBACK_MINUTES)
    assert all(parse(record["created_at"]) >= cutoff for record in resumed.records[TELNYX_AUDIT_EVENTS])
    assert len(after) < len(events(emulator)) - 50, "the resumed run starts where the first stopped"
