"""A long backfill of a busy workspace is read as windows of about a page, oldest first, so STATE
moves with it: a `kill -9` in the middle loses at most the windows in flight, and the resumed run
emits every event the last STATE did not claim."""

from __future__ import annotations

from emulator import Emulator
from tests.common import TASKROUTER_EVENTS, assert_each_once, bookmark_of
from tests.tap_runner import run_tap, run_tap_and_kill
from tests.taskrouter_helpers import catalog, events_by_workspace, partition, workspace_sids

PAGE_SIZE = 100
WORKERS = 2


def test_a_backfill_killed_halfway_resumes_from_its_last_whole_window_and_loses_nothing():
    with Emulator(taskrouter_workspaces=1, taskrouter_events=3_000, taskrouter_days=28) as emulator:
        workspace = workspace_sids(emulator)[0]
        events = events_by_workspace(emulator)[workspace]
        config = emulator.tap_config(telnyx_api_key=None, page_size=PAGE_SIZE, max_concurrent_requests=WORKERS)
        emulator.latency = 0.02  # the kill lands in the middle of the backfill

        def halfway(messages):
            return sum(1 for m in messages if m["type"] == "RECORD") >= len(events) // 2

        killed = run_tap_and_kill(config, catalog=catalog(TASKROUTER_EVENTS), kill_when=halfway)
        written = {m["record"]["sid"] for m in killed.messages if m["type"] == "RECORD"}
        state = next(m["value"] for m in reversed(killed.messages) if m["type"] == "STATE")
        claimed = bookmark_of(state, TASKROUTER_EVENTS, partition(workspace)) or ""
        claimed_events = {e["sid"] for e in events if e["event_date"] <= claimed}
        assert claimed_events <= written, "STATE claimed an event not written"
        # Windows of about a page, at most 2 x workers past the oldest not whole (and the one read).
        assert len(written) - len(claimed_events) <= (2 * WORKERS + 2) * PAGE_SIZE, "STATE lagged far behind"
        emulator.latency = 0.0

        resumed = run_tap(config, state=state, catalog=catalog(TASKROUTER_EVENTS))

        assert resumed.returncode == 0, resumed.stderr
        after = [record["sid"] for record in resumed.records[TASKROUTER_EVENTS]]
        assert_each_once(after, "event")
        assert {e["sid"] for e in events if e["event_date"] > claimed} <= set(after)
        assert {e["sid"] for e in events} <= set(after) | written
