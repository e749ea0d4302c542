"""STATE grows with the data, not with partitions x windows: many sparse workspaces write fewer
STATE bytes than RECORD bytes (each STATE carries every workspace's bookmark), and the last
STATE still claims every workspace read."""

from __future__ import annotations

import json

from emulator import Emulator
from tests.common import TASKROUTER_EVENTS, assert_each_once, bookmark_of
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import all_event_sids, catalog, events_by_workspace, partition

WORKSPACES = 150


def _bytes_by_type(stdout: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for line in stdout.splitlines(keepends=True):
        kind = json.loads(line)["type"]
        sizes[kind] = sizes.get(kind, 0) + len(line.encode())
    return sizes


def test_many_sparse_workspaces_write_fewer_state_bytes_than_record_bytes():
    with Emulator(taskrouter_workspaces=WORKSPACES, taskrouter_events=3, taskrouter_days=20) as emulator:
        run = run_tap(emulator.tap_config(telnyx_api_key=None), catalog=catalog(TASKROUTER_EVENTS))

        assert run.returncode == 0, run.stderr
        sizes = _bytes_by_type(run.stdout)
        assert sizes["STATE"] <= sizes["RECORD"], sizes
        emitted = [record["sid"] for record in run.records[TASKROUTER_EVENTS]]
        assert_each_once(emitted, "event")
        assert set(emitted) == all_event_sids(emulator)
        for workspace, events in events_by_workspace(emulator).items():
            newest = max(event["event_date"] for event in events)
            assert bookmark_of(run.final_state, TASKROUTER_EVENTS, partition(workspace)) == newest
