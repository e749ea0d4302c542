"""A start_date older than the Monitor API keeps does not fail the run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from emulator import Emulator
from tap_events.monitor import MonitorAlertsStream
from tap_events.tap import TapEvents
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, twilio_config
from tests.monitor_helpers import alerts_of, events_of
from tests.tap_runner import catalog_selecting, run_tap


@pytest.fixture(params=["date_created", "date_generated"])
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """The default data set, once for each timestamp the Alerts filter may match (undocumented)."""
    with Emulator(alerts_filter_field=request.param) as running:
        yield running


def test_alerts_older_than_30_days_are_not_queried_the_start_is_clamped(emulator):
    config = twilio_config(emulator, start_date=(dt.datetime.now(dt.UTC) - dt.timedelta(days=90)).isoformat())

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    assert run.stderr.count("the API keeps about 30 days of data") == 1
    assert {r["sid"] for r in run.records[MONITOR_ALERTS]} == {alert["sid"] for alert in alerts_of(emulator)}
    assert all(seen.status == 200 for seen in emulator.seen)


def test_events_older_than_the_retention_only_warn(emulator):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    config = twilio_config(emulator, start_date=start.isoformat())

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    assert "older records may be missing at the source" in run.stderr
    assert {r["sid"] for r in run.records[MONITOR_EVENTS]} == {event["sid"] for event in events_of(emulator)}
    assert any(f"StartDate={start:%Y-%m-%d}" in seen.url for seen in emulator.seen), "the old days are asked for"


def test_alerts_read_long_after_the_run_started_are_still_clamped_to_the_last_30_days(emulator):
    # Streams and accounts are read one after another: Alerts may start many minutes into a run.
    config = twilio_config(emulator, start_date=(dt.datetime.now(dt.UTC) - dt.timedelta(days=90)).isoformat())
    stream = TapEvents(config=config).streams[MONITOR_ALERTS]
    assert isinstance(stream, MonitorAlertsStream)
    stream.run_started_at -= dt.timedelta(minutes=20)

    stream.sync()

    assert emulator.seen, "Alerts were requested"
    assert all(seen.status == 200 for seen in emulator.seen), [seen.url for seen in emulator.seen if seen.status != 200]
