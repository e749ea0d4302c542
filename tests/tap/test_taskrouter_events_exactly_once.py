"""One run emits every event of every workspace exactly once, each with its workspace_sid."""

from __future__ import annotations

from collections import Counter

from tests.common import TASKROUTER_EVENTS, TASKROUTER_WORKSPACES, twilio_config
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import all_event_sids, catalog, events_by_workspace, partition, workspace_sids


def test_every_event_of_every_workspace_is_emitted_exactly_once(emulator):
    config = twilio_config(emulator, page_size=3)  # bursts of one second span pages

    run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    emitted = Counter(record["sid"] for record in run.records[TASKROUTER_EVENTS])
    assert [sid for sid, count in emitted.items() if count > 1] == []
    assert set(emitted) == all_event_sids(emulator)


def test_each_event_carries_the_workspace_it_was_read_from(emulator):
    run = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    owner = {event["sid"]: sid for sid, events in events_by_workspace(emulator).items() for event in events}
    assert {record["sid"]: record["workspace_sid"] for record in run.records[TASKROUTER_EVENTS]} == owner


def test_workspaces_stream_lists_every_workspace_once(emulator):
    config = twilio_config(emulator, page_size=2)

    run = run_tap(config, catalog=catalog(TASKROUTER_WORKSPACES))

    assert run.returncode == 0, run.stderr
    assert sorted(record["sid"] for record in run.records[TASKROUTER_WORKSPACES]) == sorted(workspace_sids(emulator))
    assert TASKROUTER_EVENTS not in run.records


def test_each_workspace_gets_its_own_bookmark_at_its_newest_event(emulator):
    run = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    for sid, events in events_by_workspace(emulator).items():
        newest = max(event["event_date"] for event in events)
        assert run.bookmark(TASKROUTER_EVENTS, partition(sid)) == newest
    bookmarks = {run.bookmark(TASKROUTER_EVENTS, partition(sid)) for sid in workspace_sids(emulator)}
    assert len(bookmarks) == len(workspace_sids(emulator)), "the data set gives each workspace its own newest event"


def test_state_never_claims_an_event_not_yet_emitted(emulator):
    run = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    newest_emitted: dict[str, str] = {}
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == TASKROUTER_EVENTS:
            record = message["record"]
            newest_emitted[record["workspace_sid"]] = max(
                newest_emitted.get(record["workspace_sid"], ""), record["event_date"]
            )
        elif message["type"] == "STATE":
            for partition in message["value"]["bookmarks"].get(TASKROUTER_EVENTS, {}).get("partitions", []):
                bookmark = partition.get("replication_key_value")
                assert bookmark is None or bookmark <= newest_emitted[partition["context"]["workspace_sid"]]
