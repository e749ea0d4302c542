"""A re-run from the final STATE emits only what is at or after bookmark - lookback, and new events."""

from __future__ import annotations

import datetime as dt

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, parse, twilio_config
from tests.tap_runner import catalog_selecting, run_tap

STREAMS = [MONITOR_EVENTS, MONITOR_ALERTS]
ACCOUNT = {"account_sid": DEFAULT_ACCOUNT_SID}
REPLICATION_KEYS = {MONITOR_EVENTS: "event_date", MONITOR_ALERTS: "date_created"}


def test_rerun_emits_only_the_lookback_window(emulator):
    config = twilio_config(emulator, lookback_window_minutes=30)
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
    assert second.bookmark(MONITOR_EVENTS, ACCOUNT) == first.bookmark(MONITOR_EVENTS, ACCOUNT)


def test_rerun_picks_up_events_that_arrived_since(emulator):
    catalog = catalog_selecting(twilio_config(emulator), [MONITOR_EVENTS])
    first = run_tap(twilio_config(emulator), catalog=catalog)
    [late] = emulator.monitor.add_events([dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)])

    second = run_tap(twilio_config(emulator), state=first.final_state, catalog=catalog)

    assert late["sid"] in {record["sid"] for record in second.records[MONITOR_EVENTS]}
    assert second.bookmark(MONITOR_EVENTS, ACCOUNT) == late["event_date"]
