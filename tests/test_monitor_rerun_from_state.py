"""A re-run from the final STATE emits only what is at or after bookmark - lookback, and new events."""

from __future__ import annotations

import datetime as dt

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import parse
from tests.tap_runner import catalog_selecting, run_tap

STREAMS = ["twilio_monitor_events", "twilio_monitor_alerts"]
ACCOUNT = {"account_sid": DEFAULT_ACCOUNT_SID}
REPLICATION_KEYS = {"twilio_monitor_events": "event_date", "twilio_monitor_alerts": "date_created"}


def test_rerun_emits_only_the_lookback_window(emulator, twilio_config):
    config = {**twilio_config, "lookback_window_minutes": 30}
    catalog = catalog_selecting(config, STREAMS)
    first = run_tap(config, catalog=catalog)
    assert first.returncode == 0, first.stderr

    second = run_tap(config, state=first.final_state, catalog=catalog)

    assert second.returncode == 0, second.stderr
    for stream in STREAMS:
        first_bookmark = first.bookmark(stream, ACCOUNT)
        assert first_bookmark is not None
        cutoff = parse(first_bookmark) - dt.timedelta(minutes=30)
        key = REPLICATION_KEYS[stream]
        assert all(parse(record[key]) >= cutoff for record in second.records[stream])
        assert len(second.records[stream]) < len(first.records[stream])
    assert second.bookmark("twilio_monitor_events", ACCOUNT) == first.bookmark("twilio_monitor_events", ACCOUNT)


def test_rerun_picks_up_events_that_arrived_since(emulator, twilio_config):
    catalog = catalog_selecting(twilio_config, ["twilio_monitor_events"])
    first = run_tap(twilio_config, catalog=catalog)
    late = emulator.monitor.make_event(DEFAULT_ACCOUNT_SID, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    emulator.monitor.events[DEFAULT_ACCOUNT_SID].add(late)

    second = run_tap(twilio_config, state=first.final_state, catalog=catalog)

    assert late["sid"] in {record["sid"] for record in second.records["twilio_monitor_events"]}
    assert second.bookmark("twilio_monitor_events", ACCOUNT) == late["event_date"]
