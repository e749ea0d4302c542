"""A workspace deleted between runs, or during a run, does not break the run."""

from __future__ import annotations

from tests.common import TASKROUTER_EVENTS, twilio_config
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import catalog, events_by_workspace, events_requests, partition, sids, workspace_sids


def test_a_workspace_deleted_between_runs_is_not_read_and_keeps_its_bookmark(emulator):
    first = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))
    gone, *kept = workspace_sids(emulator)
    emulator.taskrouter.delete(gone)
    emulator.seen.clear()

    second = run_tap(twilio_config(emulator), state=first.final_state, catalog=catalog(TASKROUTER_EVENTS))

    assert second.returncode == 0, second.stderr
    assert {record["workspace_sid"] for record in second.records[TASKROUTER_EVENTS]} == set(kept)
    assert not [url for url in events_requests(emulator) if gone in url]
    assert second.bookmark(TASKROUTER_EVENTS, partition(gone)) == first.bookmark(TASKROUTER_EVENTS, partition(gone))


def test_a_workspace_deleted_after_it_was_listed_is_skipped_with_one_warning(emulator):
    gone = workspace_sids(emulator)[1]
    expected = {
        event["sid"] for sid, events in events_by_workspace(emulator).items() if sid != gone for event in events
    }
    config = twilio_config(emulator, max_concurrent_requests=4)

    def delete_on_first_events_request(request, workspace_sid: str) -> None:
        if gone in workspace_sids(emulator):
            emulator.taskrouter.delete(gone)

    emulator.taskrouter.before_events_request = delete_on_first_events_request

    run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert sids(run.records[TASKROUTER_EVENTS]) == expected
    warnings = [line for line in run.stderr.splitlines() if "no longer exists" in line]
    assert len(warnings) == 1 and gone in warnings[0]
    # Only the windows already being read ahead when the first 404 came back were asked for.
    assert 1 <= len([url for url in events_requests(emulator) if gone in url]) <= 4
    assert run.bookmark(TASKROUTER_EVENTS, partition(gone)) is None


def test_a_workspace_deleted_midway_keeps_only_the_bookmark_of_its_completed_windows(emulator):
    gone = workspace_sids(emulator)[0]
    # One window at a time, so that "the window being read" is well defined.
    config = twilio_config(emulator, page_size=1, max_concurrent_requests=1)
    paged_windows: list[str] = []

    def delete_on_a_second_page(request, workspace_sid: str) -> None:
        # Delete the workspace when the tap asks for the second page of its second multi-page
        # window: an earlier window is complete, and the first page of this one was emitted.
        start_date = request.param("StartDate")
        if workspace_sid == gone and request.param("PageToken") and start_date not in paged_windows:
            paged_windows.append(start_date)
            if len(paged_windows) == 2:
                emulator.taskrouter.delete(gone)

    emulator.taskrouter.before_events_request = delete_on_a_second_page
    events = emulator.taskrouter.events_of(gone)

    run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    emitted = [record for record in run.records[TASKROUTER_EVENTS] if record["workspace_sid"] == gone]
    interrupted_day = emitted[-1]["event_date"][:10]
    completed = [event["event_date"] for event in events if event["event_date"][:10] < interrupted_day]
    assert completed, "windows before the interrupted one had events"
    bookmark = run.bookmark(TASKROUTER_EVENTS, partition(gone))
    assert bookmark == max(completed)
    assert max(record["event_date"] for record in emitted) > bookmark
    assert {e["sid"] for e in events if e["event_date"] <= bookmark} <= sids(emitted)
