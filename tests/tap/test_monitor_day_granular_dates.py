"""Monitor's StartDate/EndDate match whole UTC days: the tap, not the server, cuts at the bookmark."""

from __future__ import annotations

import datetime as dt

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS, parse, twilio_config
from tests.monitor_helpers import events_of, get_events
from tests.tap_runner import catalog_selecting, partitioned_state, run_tap


def test_emulator_ignores_the_time_of_day_in_start_date(emulator):
    events = events_of(emulator)
    day = events[len(events) // 2]["event_date"][:10]
    response = get_events(emulator, StartDate=f"{day}T23:59:59Z", EndDate=f"{day}T00:00:00Z", PageSize="1000")

    returned = {event["sid"] for event in response.json()["events"]}
    assert returned == {event["sid"] for event in events if event["event_date"].startswith(day)}


def test_rerun_from_a_mid_day_bookmark_does_not_reemit_the_whole_day(emulator):
    events = sorted(events_of(emulator), key=lambda event: event["event_date"])
    bookmark = events[len(events) // 2]["event_date"]
    state = partitioned_state(MONITOR_EVENTS, "event_date", {DEFAULT_ACCOUNT_SID: bookmark})
    config = twilio_config(emulator, lookback_window_minutes=10)

    run = run_tap(config, state=state, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    cutoff = parse(bookmark) - dt.timedelta(minutes=10)
    emitted = run.records[MONITOR_EVENTS]
    assert emitted, "the events after the bookmark must be emitted"
    assert all(parse(record["event_date"]) >= cutoff for record in emitted)
    expected = {event["sid"] for event in events if parse(event["event_date"]) >= cutoff}
    assert {record["sid"] for record in emitted} == expected
