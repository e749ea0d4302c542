"""Sparse workspaces are read at once: while one is written, the first queries of the next ones
are in flight (never more than `max_concurrent_requests` for the account), each workspace still
costs one request, its events are emitted once, and no STATE claims a workspace's events before
they are written."""

from __future__ import annotations

from emulator import Emulator
from tests.common import TASKROUTER_EVENTS, assert_each_once, bookmark_of
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import all_event_sids, catalog, events_by_workspace, events_requests, partition

WORKERS = 4


def test_sparse_workspaces_are_read_at_once_within_the_accounts_limit():
    with Emulator(taskrouter_workspaces=12, taskrouter_events=5, taskrouter_days=20) as emulator:
        emulator.latency = 0.1
        config = emulator.tap_config(telnyx_api_key=None, max_concurrent_requests=WORKERS)

        run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

        assert run.returncode == 0, run.stderr
        assert 1 < emulator.peak_in_flight <= WORKERS
        assert len(events_requests(emulator)) == 12
        emitted = [record["sid"] for record in run.records[TASKROUTER_EVENTS]]
        assert_each_once(emitted, "event")
        assert set(emitted) == all_event_sids(emulator)
        written: set[str] = set()
        for message in run.messages:
            if message["type"] == "RECORD" and message["stream"] == TASKROUTER_EVENTS:
                written.add(message["record"]["sid"])
            elif message["type"] == "STATE":
                for workspace, events in events_by_workspace(emulator).items():
                    claimed = bookmark_of(message["value"], TASKROUTER_EVENTS, partition(workspace)) or ""
                    unwritten = [e for e in events if e["event_date"] <= claimed and e["sid"] not in written]
                    assert not unwritten, "STATE claimed events not yet written"
