"""One run emits every Monitor Event in range exactly once, and its bookmark is the newest."""

from __future__ import annotations

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS, assert_each_once, bookmark_values, twilio_config
from tests.monitor_helpers import events_of
from tests.tap_runner import catalog_selecting, run_tap


def test_every_event_in_range_is_emitted_exactly_once(emulator):
    config = twilio_config(emulator, page_size=25)  # many pages per day
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    emitted = [record["sid"] for record in run.records[MONITOR_EVENTS]]
    expected = {event["sid"] for event in events_of(emulator)}
    assert_each_once(emitted, "event")
    assert set(emitted) == expected


def test_final_bookmark_is_the_newest_event_date(emulator):
    config = twilio_config(emulator)
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    newest = max(event["event_date"] for event in events_of(emulator))
    assert run.bookmark(MONITOR_EVENTS, {"account_sid": DEFAULT_ACCOUNT_SID}) == newest


def test_state_is_emitted_after_each_day_and_never_ahead_of_records(emulator):
    config = twilio_config(emulator, max_concurrent_requests=1)  # days whole one after the other
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    newest_emitted = ""
    for message in run.messages:
        if message["type"] == "RECORD":
            newest_emitted = max(newest_emitted, message["record"]["event_date"])
        elif message["type"] == "STATE":
            assert all(value <= newest_emitted for value in bookmark_values(message["value"], MONITOR_EVENTS))
    assert len(run.states) >= 28  # one per completed day window of the 29 days of data
