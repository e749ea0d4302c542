"""A TaskRouter day of many pages is read as several queries at once (its filter takes time to the
second): every event once, events on the seconds between two queries too, STATE only over whole
days, and a run killed while the pieces are read resumes without losing one. Twilio names no
order for the Events list, so each behaviour runs with pages newest first and shuffled."""

from __future__ import annotations

import datetime as dt
import random
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.common import TASKROUTER_EVENTS, assert_each_once, bookmark_of, iso
from tests.monitor_helpers import midnight
from tests.tap_runner import run_tap_and_kill, run_tap_process
from tests.taskrouter_helpers import catalog, events_requests, partition, taskrouter_api, workspace_sids

PAGE_SIZE = 100


@pytest.fixture(params=["newest_first", "shuffled"])
def busy_day(request, emulator):
    """About 4,000 events of one workspace yesterday: spread over the day, three in every second of
    its last 40 minutes and within 10 s of each whole hour, so that the seconds where one query
    ends and the next begins hold events whether the pieces are sized from a first page newest
    first or, shuffled, cut in equal parts. Returns (workspace sid, the day's events, the config)."""
    api = taskrouter_api(emulator)
    api.shuffle_event_pages = request.param == "shuffled"
    workspace = workspace_sids(emulator)[0]
    day = midnight(1)
    rng = random.Random(11)
    moments = [day + dt.timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(1_800)]
    dense_from = day + dt.timedelta(hours=23, minutes=20)
    moments += [
        dense_from + dt.timedelta(seconds=second, milliseconds=100 * n) for second in range(400) for n in range(3)
    ]
    moments += [
        day + dt.timedelta(hours=hour, seconds=second, milliseconds=100 * n)
        for hour in range(1, 23)
        for second in range(-10, 10)
        for n in range(3)
    ]
    added = api.add_events(workspace, moments)
    day_events = [
        e for e in api.events_of(workspace) if day <= dt.datetime.fromisoformat(e["event_date"]) < midnight(0)
    ]
    assert len(day_events) >= len(added)
    config = emulator.tap_config(
        telnyx_api_key=None,
        start_date=iso(day),
        end_date=iso(midnight(0)),
        page_size=PAGE_SIZE,
        twilio_workspace_sids=[workspace],
    )
    return workspace, day_events, config


def _query_starts(emulator, workspace: str) -> set[str]:
    """The StartDate of every first-page request for the workspace's events."""
    starts = set()
    for url in events_requests(emulator):
        query = parse_qs(urlsplit(url).query)
        if workspace in url and "PageToken" not in query:
            starts.update(query.get("StartDate", []))
    return starts


def test_a_busy_day_is_read_by_several_queries_and_each_event_is_emitted_once(emulator, busy_day):
    workspace, day_events, config = busy_day

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    emitted = [r["sid"] for r in run.records[TASKROUTER_EVENTS] if r["workspace_sid"] == workspace]
    assert_each_once(emitted, "event")
    assert set(emitted) == {event["sid"] for event in day_events}
    assert len(_query_starts(emulator, workspace)) > 2, "the day was paged through, not read in pieces"


def test_events_on_the_second_where_one_query_ends_and_the_next_begins_are_emitted_once(emulator, busy_day):
    workspace, day_events, config = busy_day

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    boundaries = _query_starts(emulator, workspace) - {iso(midnight(1))}
    seconds = {event["event_date"] for event in day_events}
    assert boundaries & seconds, "no query began on a second holding events: the test does not test the boundaries"
    emitted = [r["sid"] for r in run.records[TASKROUTER_EVENTS] if r["workspace_sid"] == workspace]
    assert_each_once(emitted, "event")


def test_state_claims_only_pieces_whose_every_event_is_written(emulator, busy_day):
    """The busy day is read as pieces, each a window of its own: STATE moves over whole pieces from
    the oldest, so whatever it claims, every event of the day up to that instant was written before."""
    workspace, day_events, config = busy_day

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    written: set[str] = set()
    claimed_early = []
    for message in run.messages:
        if message["type"] == "RECORD" and message["record"].get("workspace_sid") == workspace:
            written.add(message["record"]["sid"])
        elif message["type"] == "STATE":
            claimed = bookmark_of(message["value"], TASKROUTER_EVENTS, partition(workspace))
            missing = [
                e["sid"] for e in day_events if claimed and e["event_date"] <= claimed and e["sid"] not in written
            ]
            if missing:
                claimed_early.append((claimed, len(missing)))
    assert claimed_early == []
    assert run.bookmark(TASKROUTER_EVENTS, partition(workspace)) == max(e["event_date"] for e in day_events)


def test_a_run_killed_while_pieces_are_read_resumes_without_losing_an_event(emulator, busy_day):
    workspace, day_events, config = busy_day
    # A day before, with events of its own: its STATE is the one to resume from.
    config = {**config, "start_date": iso(midnight(2))}
    api = taskrouter_api(emulator)
    api.add_events(workspace, [midnight(2) + dt.timedelta(hours=h) for h in (3, 9)])
    day_before = [e for e in api.events_of(workspace) if iso(midnight(2)) <= e["event_date"] < iso(midnight(1))]
    emulator.latency = 0.02  # the kill lands while the pieces are read
    expected = {event["sid"] for event in day_events}

    def some_of_the_day(messages):
        return sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] == TASKROUTER_EVENTS) >= 600

    killed = run_tap_and_kill(config, catalog=catalog(TASKROUTER_EVENTS), kill_when=some_of_the_day)
    before = {m["record"]["sid"] for m in killed.messages if m["type"] == "RECORD"}
    assert 0 < len(before & expected) < len(expected)
    state = next(m["value"] for m in reversed(killed.messages) if m["type"] == "STATE")
    assert bookmark_of(state, TASKROUTER_EVENTS, partition(workspace)) == max(e["event_date"] for e in day_before)
    emulator.latency = 0.0

    resumed = run_tap_process(config, state=state, catalog=catalog(TASKROUTER_EVENTS))

    assert resumed.returncode == 0, resumed.stderr
    after = [r["sid"] for r in resumed.records[TASKROUTER_EVENTS] if r["workspace_sid"] == workspace]
    assert_each_once(after, "event")
    assert expected <= set(after) | before
    assert expected <= set(after), "the day was not whole, so STATE did not claim it: it is read again whole"


def test_one_request_at_a_time_pages_through_the_day_without_splitting_it(emulator, busy_day):
    workspace, day_events, config = busy_day

    run = run_tap_process({**config, "max_concurrent_requests": 1}, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert _query_starts(emulator, workspace) == {iso(midnight(1))}
    emitted = [r["sid"] for r in run.records[TASKROUTER_EVENTS] if r["workspace_sid"] == workspace]
    assert sorted(emitted) == sorted(event["sid"] for event in day_events)
