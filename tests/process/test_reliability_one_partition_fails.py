"""A partition that fails for good (here a 400 on one workspace's events, part-way) does not stop
the others; its STATE claims only what it read whole, and the run exits non-zero."""

from __future__ import annotations

from tests.common import TASKROUTER_EVENTS, parse, twilio_config
from tests.tap_runner import run_tap_process
from tests.taskrouter_helpers import catalog, events_by_workspace, partition, sids, workspace_sids


def test_one_workspace_failing_leaves_the_others_whole_and_resumes_from_its_last_whole_window(emulator):
    config = twilio_config(emulator, page_size=5, lookback_window_minutes=0)
    # The workspace read first: a failure that stopped the run would leave the others unread.
    failing = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS)).records[TASKROUTER_EVENTS][0]["workspace_sid"]
    others = [sid for sid in workspace_sids(emulator) if sid != failing]
    expected = {sid: sids(events) for sid, events in events_by_workspace(emulator).items()}
    # Its first pages are answered, then every request is refused.
    emulator.faults.add(f"/v1/Workspaces/{failing}/Events", status=400, code=20001, times=10_000, skip=12)

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 1
    read = {sid: sids(r for r in run.records[TASKROUTER_EVENTS] if r["workspace_sid"] == sid) for sid in expected}
    for sid in others:
        assert read[sid] == expected[sid]
        assert run.bookmark(TASKROUTER_EVENTS, partition(sid))
    assert read[failing] and read[failing] != expected[failing], "the failing workspace was read part-way"
    bookmark = run.bookmark(TASKROUTER_EVENTS, partition(failing))
    events = events_by_workspace(emulator)[failing]
    claimed = {e["sid"] for e in events if bookmark and parse(e["event_date"]) < parse(bookmark)}
    assert claimed <= read[failing], "STATE claims only events that were read"
    [error] = [line for line in run.stderr.splitlines() if " | ERROR " in line and "HTTP 400" in line]
    assert f"workspace {failing}" in error and "Twilio error 20001" in error

    emulator.faults.clear()
    resumed = run_tap_process(config, state=run.final_state, catalog=catalog(TASKROUTER_EVENTS))

    assert resumed.returncode == 0, resumed.stderr
    resumed_events = sids(r for r in resumed.records[TASKROUTER_EVENTS] if r["workspace_sid"] == failing)
    assert read[failing] | resumed_events == expected[failing]
