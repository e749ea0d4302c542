"""Alerts are buffered: `date_generated` can be minutes before `date_created`, and Twilio does not say
which of the two StartDate/EndDate match. Every alert is read once under either reading."""

from __future__ import annotations

import datetime as dt
import random

from emulator.monitor import ALERT_MAX_BUFFERING
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, assert_each_once, iso, parse
from tests.monitor_helpers import alerts_of, get_alerts, midnight, monitor_api
from tests.tap_runner import catalog_selecting, partitioned_state, run_tap


def _around_midnights(emulator, count: int = 3_000) -> list[dict]:
    """Alerts recorded within five minutes either side of the last two midnights UTC."""
    rng = random.Random(2)
    moments = [midnight(rng.choice([1, 2])) + dt.timedelta(seconds=rng.randrange(-300, 300)) for _ in range(count)]
    return monitor_api(emulator).add_alerts(moments)


def _config(emulator, **overrides) -> dict:
    settings = {"telnyx_api_key": None, "start_date": iso(midnight(3)), "end_date": iso(midnight(0))}
    return emulator.tap_config(**{**settings, **overrides})


def _alerts_page(emulator, start: str, end: str) -> set[str]:
    response = get_alerts(emulator, StartDate=start, EndDate=end, PageSize="1000")
    assert response.status_code == 200
    return {alert["sid"] for alert in response.json()["alerts"]}


def test_emulator_generates_alerts_up_to_several_minutes_before_recording_them(alerts_emulator):
    alerts = _around_midnights(alerts_emulator, 500)

    delays = [parse(alert["date_created"]) - parse(alert["date_generated"]) for alert in alerts]
    assert all(dt.timedelta(0) <= delay <= ALERT_MAX_BUFFERING for delay in delays)
    assert max(delays) >= dt.timedelta(minutes=4)


def test_emulator_filters_alerts_on_the_switched_timestamp(alerts_emulator):
    alert = next(a for a in _around_midnights(alerts_emulator, 50) if a["date_generated"] < a["date_created"])
    field = monitor_api(alerts_emulator).alerts_filter_field

    by_created = alert["sid"] in _alerts_page(alerts_emulator, alert["date_created"], alert["date_created"])
    by_generated = alert["sid"] in _alerts_page(alerts_emulator, alert["date_generated"], alert["date_generated"])

    assert (by_created, by_generated) == ((True, False) if field == "date_created" else (False, True))


def test_alerts_around_midnight_are_each_emitted_once(alerts_emulator):
    alerts = _around_midnights(alerts_emulator)
    config = _config(alerts_emulator)

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    emitted = [record["sid"] for record in run.records[MONITOR_ALERTS]]
    assert_each_once(emitted, "alert")
    assert set(emitted) == {alert["sid"] for alert in alerts}


def test_a_rerun_from_a_bookmark_just_after_midnight_loses_no_buffered_alert(alerts_emulator):
    _around_midnights(alerts_emulator)
    bookmark = iso(midnight(1) + dt.timedelta(minutes=2))
    state = partitioned_state(MONITOR_ALERTS, "date_created", {DEFAULT_ACCOUNT_SID: bookmark})
    config = _config(alerts_emulator, lookback_window_minutes=10)

    run = run_tap(config, state=state, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    cutoff = iso(parse(bookmark) - dt.timedelta(minutes=10))
    expected = {
        alert["sid"] for alert in alerts_of(alerts_emulator) if cutoff <= alert["date_created"] < iso(midnight(0))
    }
    emitted = [record["sid"] for record in run.records[MONITOR_ALERTS]]
    assert_each_once(emitted, "alert")
    assert set(emitted) == expected


def test_without_the_buffering_lead_alerts_are_lost_when_the_filter_matches_date_generated(alerts_emulator):
    alerts = _around_midnights(alerts_emulator)
    # Day windows (one request at a time): what the lead does at a window's start is what is tested;
    # with more requests the whole range would be one query, with no boundary inside it.
    config = _config(alerts_emulator, twilio_alerts_max_buffering_minutes=0, max_concurrent_requests=1)

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    missing = {alert["sid"] for alert in alerts} - {record["sid"] for record in run.records[MONITOR_ALERTS]}
    if monitor_api(alerts_emulator).alerts_filter_field == "date_generated":
        assert missing, "the lead is what finds alerts generated before their window"
    else:
        assert not missing
