"""Sparse workspaces are read at once: while one is written, the first queries of the next ones
are in flight (never more than `max_concurrent_requests` for the account), each workspace still
costs one request, its events are emitted once, and no STATE claims a workspace's events before
they are written."""

from __future__ import annotations

from emulator import Emulator
from tests.common import TASKROUTER_EVENTS, assert_each_once
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import (
    all_event_sids,
    assert_state_claims_only_written,
    catalog,
    events_requests,
)

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
        assert_state_claims_only_written(run, emulator)


def test_a_busy_workspaces_windows_are_read_while_the_one_before_is_still_being_read():
    """A workspace whose range holds several pages is read as windows; those of the next
    workspace are read at the same time (sharing the account's limit), not after it is written."""
    with Emulator(taskrouter_workspaces=2, taskrouter_events=40, taskrouter_days=20) as emulator:
        # Each workspace's windows take at least two rounds of answers (four in flight): the
        # second's are asked within the first's rounds with 0.3 s to spare, however loaded the machine.
        emulator.latency = 0.15
        config = emulator.tap_config(telnyx_api_key=None, max_concurrent_requests=WORKERS, page_size=10)

        run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

        assert run.returncode == 0, run.stderr
        assert emulator.peak_in_flight <= WORKERS
        written_order = list(dict.fromkeys(record["workspace_sid"] for record in run.records[TASKROUTER_EVENTS]))
        first, second = (
            [seen for seen in emulator.seen if f"/Workspaces/{sid}/Events" in seen.url] for sid in written_order[:2]
        )
        assert len(first) > 2 and len(second) > 2, "each workspace is read as windows"
        first_done = max(seen.answered for seen in first)
        assert any(seen.at < first_done for seen in second[1:]), "the second workspace's windows waited"
        emitted = [record["sid"] for record in run.records[TASKROUTER_EVENTS]]
        assert_each_once(emitted, "event")
        assert set(emitted) == all_event_sids(emulator)
        assert_state_claims_only_written(run, emulator)
