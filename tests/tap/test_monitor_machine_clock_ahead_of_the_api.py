"""A machine whose clock runs ahead of Twilio's by more than the lookback loses no Monitor Event:
how far an account without events was read comes from the `Date` of the API's answers, never
from the machine's clock."""

from __future__ import annotations

import datetime as dt

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS, assert_each_once, parse
from tests.monitor_helpers import monitor_api
from tests.tap_runner import catalog_selecting, run_tap

LOOKBACK = dt.timedelta(minutes=10)
AHEAD = dt.timedelta(hours=1)


def test_events_created_after_a_run_of_an_account_without_events_are_read_by_the_next_run():
    with Emulator(monitor_events=0, monitor_alerts=0, clock_offset_seconds=AHEAD.total_seconds()) as emulator:
        config = emulator.tap_config(telnyx_api_key=None, lookback_window_minutes=LOOKBACK // dt.timedelta(minutes=1))
        catalog = catalog_selecting(config, [MONITOR_EVENTS])
        first = run_tap(config, catalog=catalog)
        assert first.returncode == 0, first.stderr
        created = emulator.clock() - dt.timedelta(seconds=1)  # by the API's clock, after the first run
        new = monitor_api(emulator).add_events([created, created])
        entries = first.final_state["bookmarks"][MONITOR_EVENTS]["partitions"]
        state = next(entry for entry in entries if entry["context"] == {"account_sid": DEFAULT_ACCOUNT_SID})
        assert parse(state["read_through"]) - LOOKBACK > created  # the machine's clock would skip them

        second = run_tap(config, state=first.final_state, catalog=catalog)

        assert second.returncode == 0, second.stderr
        emitted = [record["sid"] for record in second.records[MONITOR_EVENTS]]
        assert_each_once(emitted, "event")
        assert set(emitted) == {event["sid"] for event in new}
