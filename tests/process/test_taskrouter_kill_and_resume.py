"""A run killed with SIGKILL mid-run, then resumed from its last STATE, loses no event."""

from __future__ import annotations

from tests.common import TASKROUTER_EVENTS, twilio_config
from tests.tap_runner import run_tap_and_kill, run_tap_process
from tests.taskrouter_helpers import all_event_sids, catalog, events_by_workspace, workspace_sids


def _last_state(messages):
    return next(message["value"] for message in reversed(messages) if message["type"] == "STATE")


def test_kill_9_mid_run_then_resume_from_last_state_loses_nothing(emulator):
    emulator.latency = 0.02  # slow enough that the kill lands mid-run
    expected = all_event_sids(emulator)
    half = len(expected) // 2
    config = twilio_config(emulator, page_size=2)

    def halfway(messages):
        return sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] == TASKROUTER_EVENTS) >= half

    killed = run_tap_and_kill(config, catalog=catalog(TASKROUTER_EVENTS), kill_when=halfway)
    emitted_before = {
        m["record"]["sid"] for m in killed.messages if m["type"] == "RECORD" and m["stream"] == TASKROUTER_EVENTS
    }
    assert half <= len(emitted_before) < len(expected)
    state = _last_state(killed.messages)
    partitions = state["bookmarks"][TASKROUTER_EVENTS]["partitions"]
    assert 0 < len(partitions) <= len(workspace_sids(emulator))
    emulator.latency = 0.0

    resumed = run_tap_process(config, state=state, catalog=catalog(TASKROUTER_EVENTS))

    assert resumed.returncode == 0, resumed.stderr
    emitted_after = {record["sid"] for record in resumed.records[TASKROUTER_EVENTS]}
    assert emitted_before | emitted_after == expected
    # Stronger: whatever the last STATE did not cover is emitted again, so a target that lost
    # the records written after that STATE loses nothing either.
    bookmarks = {p["context"]["workspace_sid"]: p.get("replication_key_value") for p in partitions}
    for sid, events in events_by_workspace(emulator).items():
        uncovered = {e["sid"] for e in events if bookmarks.get(sid) is None or e["event_date"] > bookmarks[sid]}
        assert uncovered <= emitted_after
    assert len(emitted_after) < len(expected), "the resumed run continued, it did not start over"
