"""A re-run reads from bookmark - lookback_window_minutes (inclusive): late events are picked up."""

from __future__ import annotations

import datetime as dt

import pytest

from tap_events.tap import TapEvents
from tests.common import TELNYX_AUDIT_EVENTS, parse
from tests.tap_runner import TapRun, run_tap
from tests.telnyx_helpers import bookmark, events, millis, telnyx_config

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def _state(value: str) -> dict:
    return {"bookmarks": {TELNYX_AUDIT_EVENTS: {"replication_key": "created_at", "replication_key_value": value}}}


def run_and_rerun(config: dict) -> tuple[TapRun, TapRun]:
    """A run, then a run from its STATE, both succeeding."""
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    second = run_tap(config, state=first.final_state)
    assert second.returncode == 0, second.stderr
    return first, second


def test_rerun_emits_exactly_the_events_at_or_after_bookmark_minus_lookback(emulator):
    first, second = run_and_rerun(telnyx_config(emulator, page_size=20, lookback_window_minutes=240))

    cutoff = parse(first.bookmark(TELNYX_AUDIT_EVENTS)) - dt.timedelta(minutes=240)
    expected = {e["id"] for e in events(emulator) if parse(e["created_at"]) >= cutoff}
    emitted = [record["id"] for record in second.records[TELNYX_AUDIT_EVENTS]]
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == expected
    assert 0 < len(expected) < len(events(emulator))


def test_rereading_the_lookback_never_moves_the_bookmark_back(emulator):
    first, second = run_and_rerun(telnyx_config(emulator, page_size=5, lookback_window_minutes=240))

    assert len(second.records[TELNYX_AUDIT_EVENTS]) > 5, "the lookback spans several pages"
    assert {bookmark(state) for state in second.states} == {first.bookmark(TELNYX_AUDIT_EVENTS)}


def test_the_bookmark_never_moves_back_even_for_a_moment(emulator, monkeypatch, capsys):
    # A SIGTERM writes STATE as it is at that moment, so it must never hold a lookback record's value.
    config = telnyx_config(emulator, page_size=5, lookback_window_minutes=240)
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    stream = TapEvents(config=config, state=first.final_state).streams[TELNYX_AUDIT_EVENTS]
    after_each_record: list[str] = []
    increment = stream._increment_stream_state

    def watched(record: dict, *, context: dict | None = None) -> None:
        increment(record, context=context)
        after_each_record.append(stream.get_context_state(context)["replication_key_value"])

    monkeypatch.setattr(stream, "_increment_stream_state", watched)
    stream.sync()

    assert len(after_each_record) > 5, "the lookback spans several pages"
    assert min(parse(value) for value in after_each_record) == parse(first.bookmark(TELNYX_AUDIT_EVENTS))


def test_an_event_that_arrives_late_inside_the_lookback_is_picked_up(emulator):
    config = telnyx_config(emulator, lookback_window_minutes=10)
    first = run_tap(config)
    assert first.returncode == 0, first.stderr
    # Visible only now, with a created_at the first run had already passed.
    [late] = emulator.telnyx.add_events([parse(first.bookmark(TELNYX_AUDIT_EVENTS)) - dt.timedelta(minutes=3)])

    second = run_tap(config, state=first.final_state)

    assert second.returncode == 0, second.stderr
    assert late["id"] in {record["id"] for record in second.records[TELNYX_AUDIT_EVENTS]}
    assert second.bookmark(TELNYX_AUDIT_EVENTS) == first.bookmark(TELNYX_AUDIT_EVENTS)


def test_with_no_lookback_the_bookmark_instant_is_read_again(emulator):
    # Three events at one whole second: a run stopped after writing the first of them left
    # STATE at that instant; the other two were on the next page.
    middle = parse(events(emulator)[len(events(emulator)) // 2]["created_at"])
    instant = middle.replace(microsecond=0) + dt.timedelta(seconds=1)
    burst = {event["id"] for event in emulator.telnyx.add_events([instant] * 3)}
    config = telnyx_config(emulator, lookback_window_minutes=0)

    run = run_tap(config, state=_state(millis(instant)))

    assert run.returncode == 0, run.stderr
    emitted = {record["id"] for record in run.records[TELNYX_AUDIT_EVENTS]}
    assert burst <= emitted
    assert emitted == {e["id"] for e in events(emulator) if parse(e["created_at"]) >= instant}
