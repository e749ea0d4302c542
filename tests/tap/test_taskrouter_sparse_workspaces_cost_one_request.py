"""A workspace whose events fit one page is read in one request, whatever its range (30 days);
one that holds nothing costs one request on every later run, from where the last run read it by
the API's clock (the `Date` of its answer) minus the lookback, not from its 30 days again."""

from __future__ import annotations

import collections
import datetime as dt
from urllib.parse import parse_qs, urlsplit

from emulator import Emulator
from tests.common import TASKROUTER_EVENTS, assert_each_once, parse
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import all_event_sids, catalog, events_requests, partition, taskrouter_api, workspace_sids

LOOKBACK_MINUTES = 10


def _requests_per_workspace(emulator: Emulator) -> collections.Counter[str]:
    return collections.Counter(urlsplit(url).path.split("/")[3] for url in events_requests(emulator))


def _fleet() -> Emulator:
    """Six workspaces of about 25 events over 20 days, and one with none."""
    emulator = Emulator(taskrouter_workspaces=6, taskrouter_events=25, taskrouter_days=20).start()
    taskrouter_api(emulator).add_workspace(events=0, friendly_name="quiet")
    return emulator


def _config(emulator: Emulator) -> dict:
    return emulator.tap_config(telnyx_api_key=None, lookback_window_minutes=LOOKBACK_MINUTES)


def test_each_sparse_workspace_is_read_in_one_request():
    with _fleet() as emulator:
        run = run_tap(_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

        assert run.returncode == 0, run.stderr
        emitted = [record["sid"] for record in run.records[TASKROUTER_EVENTS]]
        assert_each_once(emitted, "event")
        assert set(emitted) == all_event_sids(emulator)
        per_workspace = _requests_per_workspace(emulator)
        assert set(per_workspace) == set(workspace_sids(emulator))
        assert set(per_workspace.values()) == {1}, per_workspace


def _partition_state(state: dict, workspace: str) -> dict:
    entries = state["bookmarks"][TASKROUTER_EVENTS]["partitions"]
    return next(entry for entry in entries if entry["context"] == partition(workspace))


def test_an_empty_workspace_costs_one_request_on_the_next_run_from_where_the_api_said_it_was_read():
    with _fleet() as emulator:
        quiet = next(sid for sid in workspace_sids(emulator) if not taskrouter_api(emulator).events_of(sid))
        before = emulator.clock()
        first = run_tap(_config(emulator), catalog=catalog(TASKROUTER_EVENTS))
        assert first.returncode == 0, first.stderr
        after = emulator.clock()
        read = _partition_state(first.final_state, quiet)
        assert "replication_key_value" not in read, "a partition without records has no bookmark"
        read_through = parse(read["read_through_api_clock"])
        assert before.replace(microsecond=0) <= read_through <= after
        emulator.seen.clear()

        second = run_tap(_config(emulator), state=first.final_state, catalog=catalog(TASKROUTER_EVENTS))

        assert second.returncode == 0, second.stderr
        asked = [parse_qs(urlsplit(url).query) for url in events_requests(emulator) if quiet in url]
        assert len(asked) == 1
        lookback = dt.timedelta(minutes=LOOKBACK_MINUTES)
        assert parse(asked[0]["StartDate"][0]) == (read_through - lookback).replace(microsecond=0)
        assert parse(_partition_state(second.final_state, quiet)["read_through_api_clock"]) >= read_through
