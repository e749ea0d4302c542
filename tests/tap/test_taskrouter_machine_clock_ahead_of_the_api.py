"""A machine whose clock runs ahead of Twilio's by more than the lookback loses nothing: how far an
empty workspace was read comes from the `Date` of the API's answers, not from the machine's clock
(which would start the next run after events the API had not created yet)."""

from __future__ import annotations

import datetime as dt

from emulator import Emulator
from tests.common import TASKROUTER_EVENTS, assert_each_once, parse
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import catalog, partition, taskrouter_api, workspace_sids

LOOKBACK = dt.timedelta(minutes=10)
AHEAD = dt.timedelta(hours=1)


def test_events_created_after_a_run_of_an_empty_workspace_are_read_by_the_next_run():
    with Emulator(taskrouter_workspaces=1, taskrouter_events=0, clock_offset_seconds=AHEAD.total_seconds()) as emulator:
        workspace = workspace_sids(emulator)[0]
        config = emulator.tap_config(telnyx_api_key=None, lookback_window_minutes=LOOKBACK // dt.timedelta(minutes=1))
        first = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))
        assert first.returncode == 0, first.stderr
        assert first.records[TASKROUTER_EVENTS] == []
        created = emulator.clock() - dt.timedelta(seconds=1)  # by the API's clock, after the first run
        new = taskrouter_api(emulator).add_events(workspace, [created, created])
        entries = first.final_state["bookmarks"][TASKROUTER_EVENTS]["partitions"]
        state = next(entry for entry in entries if entry["context"] == partition(workspace))
        # The machine's clock would have started the next run after these events.
        assert parse(state["read_through"]) - LOOKBACK > created

        second = run_tap(config, state=first.final_state, catalog=catalog(TASKROUTER_EVENTS))

        assert second.returncode == 0, second.stderr
        emitted = [record["sid"] for record in second.records[TASKROUTER_EVENTS]]
        assert_each_once(emitted, "event")
        assert set(emitted) == {event["sid"] for event in new}
