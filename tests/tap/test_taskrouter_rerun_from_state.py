"""A re-run from STATE continues each workspace from its own bookmark, minus the lookback."""

from __future__ import annotations

import datetime as dt

from tests.common import TASKROUTER_EVENTS, parse, twilio_config
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import catalog, events_by_workspace, partition, sids, workspace_sids


def test_rerun_emits_only_events_at_or_after_each_workspace_bookmark_minus_lookback(emulator):
    config = twilio_config(emulator, lookback_window_minutes=30)
    first = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))
    assert first.returncode == 0, first.stderr

    second = run_tap(config, state=first.final_state, catalog=catalog(TASKROUTER_EVENTS))

    assert second.returncode == 0, second.stderr
    for sid, events in events_by_workspace(emulator).items():
        bookmark = first.bookmark(TASKROUTER_EVENTS, partition(sid))
        assert bookmark is not None
        cutoff = parse(bookmark) - dt.timedelta(minutes=30)
        emitted = [record for record in second.records[TASKROUTER_EVENTS] if record["workspace_sid"] == sid]
        assert sids(emitted) == {event["sid"] for event in events if parse(event["event_date"]) >= cutoff}
        assert len(emitted) < len(events)
        assert second.bookmark(TASKROUTER_EVENTS, partition(sid)) == first.bookmark(TASKROUTER_EVENTS, partition(sid))


def test_events_sharing_the_bookmark_second_are_not_lost_without_lookback(emulator):
    config = twilio_config(emulator, lookback_window_minutes=0)
    first = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))
    sid = workspace_sids(emulator)[0]
    bookmark = first.bookmark(TASKROUTER_EVENTS, partition(sid))
    assert bookmark is not None
    # An event of the bookmark's own second that the first run could not see yet.
    same_second = max(
        (e for e in emulator.taskrouter.events_of(sid) if e["event_date"] == bookmark),
        key=lambda e: e["event_date_ms"],
    )
    [late] = emulator.taskrouter.add_events(sid, [parse(bookmark) + dt.timedelta(milliseconds=999)])
    assert late["event_date"] == bookmark and late["event_date_ms"] > same_second["event_date_ms"]

    second = run_tap(config, state=first.final_state, catalog=catalog(TASKROUTER_EVENTS))

    assert second.returncode == 0, second.stderr
    emitted = [record for record in second.records[TASKROUTER_EVENTS] if record["workspace_sid"] == sid]
    assert sids(emitted) == {
        event["sid"] for event in emulator.taskrouter.events_of(sid) if event["event_date"] >= bookmark
    }
    assert late["sid"] in sids(emitted)


def test_a_new_workspace_starts_from_start_date_while_the_others_continue(emulator):
    start_date = (emulator.now - dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = twilio_config(emulator, lookback_window_minutes=0, start_date=start_date)
    first = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))
    old_sids = workspace_sids(emulator)
    new = emulator.taskrouter.add_workspace(events=40, days=29)

    second = run_tap(config, state=first.final_state, catalog=catalog(TASKROUTER_EVENTS))

    assert second.returncode == 0, second.stderr
    by_workspace = events_by_workspace(emulator)
    emitted_new = [record for record in second.records[TASKROUTER_EVENTS] if record["workspace_sid"] == new["sid"]]
    expected_new = {e["sid"] for e in by_workspace[new["sid"]] if e["event_date"] >= start_date}
    assert expected_new != {e["sid"] for e in by_workspace[new["sid"]]}, "the new workspace has older events too"
    assert sids(emitted_new) == expected_new
    for sid in old_sids:
        bookmark = first.bookmark(TASKROUTER_EVENTS, partition(sid))
        emitted = [record for record in second.records[TASKROUTER_EVENTS] if record["workspace_sid"] == sid]
        assert sids(emitted) == {e["sid"] for e in by_workspace[sid] if e["event_date"] >= bookmark}
    assert second.bookmark(TASKROUTER_EVENTS, partition(new["sid"])) == max(
        e["event_date"] for e in by_workspace[new["sid"]]
    )
