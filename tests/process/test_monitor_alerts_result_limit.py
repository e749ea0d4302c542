"""Twilio's Alerts list refuses any page reaching past the 10,000th result of a query (HTTP 400):
the tap splits a window before or when it gets there, and fails only on a second that holds more."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import requests

from emulator.monitor import ALERTS_LIMIT_BODY
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.common import MONITOR_ALERTS, assert_each_once, bookmark_values, iso
from tests.monitor_helpers import alerts_of, midnight, monitor_api
from tests.tap_runner import catalog_selecting, run_tap_and_kill, run_tap_process


def _three_busy_days(emulator) -> tuple[dt.datetime, dt.datetime]:
    """24,000 alerts over the last three whole days, half of them in one hour (a broken webhook),
    and 1,000 of the others within five minutes of the two midnights inside the range."""
    start, end = midnight(3), midnight(0)
    rng = random.Random(13)
    spread = [start + dt.timedelta(seconds=rng.randrange(3 * 86400)) for _ in range(11_000)]
    spread += [midnight(rng.choice([1, 2])) + dt.timedelta(seconds=rng.randrange(-300, 300)) for _ in range(1_000)]
    hour = start + dt.timedelta(days=1, hours=10)
    burst = [hour + dt.timedelta(seconds=rng.randrange(3600)) for _ in range(12_000)]
    monitor_api(emulator).add_alerts(spread + burst)
    return start, end


def _alerts_config(emulator, start: dt.datetime, end: dt.datetime, **overrides) -> dict:
    return emulator.tap_config(telnyx_api_key=None, start_date=iso(start), end_date=iso(end), **overrides)


@pytest.mark.parametrize(("page_size", "refused_page"), [(1000, 11), (300, 34)])
def test_emulator_refuses_the_first_page_that_reaches_past_result_10000(alerts_emulator, page_size, refused_page):
    monitor_api(alerts_emulator).add_alerts([midnight(1) + dt.timedelta(seconds=i % 3600) for i in range(10_500)])
    url: str | None = f"{alerts_emulator.base_url}/v1/Alerts"
    params: dict | None = {"PageSize": page_size}
    pages = 0
    while url:
        response = requests.get(url, params=params, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=30)
        pages += 1
        if response.status_code != 200:
            break
        url, params = response.json()["meta"]["next_page_url"], None

    assert pages == refused_page
    assert response.status_code == 400
    assert response.json() == ALERTS_LIMIT_BODY
    assert response.json() == {
        "message": "Invalid page and pageSize combination, data is limited to 10,000 results",
        "status": 400,
    }


@pytest.mark.parametrize("max_concurrent_requests", [1, 8])
def test_24000_alerts_in_three_days_arrive_exactly_once_without_a_refused_page(
    alerts_emulator, max_concurrent_requests
):
    start, end = _three_busy_days(alerts_emulator)
    config = _alerts_config(
        alerts_emulator, start, end, page_size=1000, max_concurrent_requests=max_concurrent_requests
    )

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    emitted = [record["sid"] for record in run.records[MONITOR_ALERTS]]
    assert len(emitted) == len(set(emitted)) == 24_000, "an alert was lost or emitted twice"
    assert set(emitted) == {alert["sid"] for alert in alerts_of(alerts_emulator)}
    # 10,000 results with a next page: the tap splits instead of asking for the refused page.
    assert monitor_api(alerts_emulator).alerts_refused == 0
    if max_concurrent_requests == 1:  # else busy windows are read as pieces, which may not reach the cap
        assert "reached the cap of 10000 alerts per query" in run.stderr
    newest = max(alert["date_created"] for alert in alerts_of(alerts_emulator))
    assert run.bookmark(MONITOR_ALERTS, {"account_sid": DEFAULT_ACCOUNT_SID}) == newest


def test_a_refused_page_splits_the_window_and_nothing_is_emitted_twice(alerts_emulator):
    # With 300 per page the 34th page, results 9,901 to 10,200, is refused: already 9,900 are written.
    hour = midnight(1) + dt.timedelta(hours=10)
    rng = random.Random(5)
    monitor_api(alerts_emulator).add_alerts(hour + dt.timedelta(seconds=rng.randrange(3600)) for _ in range(10_500))
    config = _alerts_config(alerts_emulator, midnight(1), midnight(0), page_size=300)

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    assert monitor_api(alerts_emulator).alerts_refused >= 1, "no page was refused: the test tests nothing"
    emitted = [record["sid"] for record in run.records[MONITOR_ALERTS]]
    assert len(emitted) == len(set(emitted)) == 10_500
    assert "HTTP 400" not in run.stderr


def test_a_run_killed_in_a_split_window_resumes_from_its_state_without_loss(alerts_emulator):
    start, end = _three_busy_days(alerts_emulator)
    config = _alerts_config(alerts_emulator, start, end, page_size=1000, max_concurrent_requests=1)
    catalog = catalog_selecting(config, [MONITOR_ALERTS])

    def inside_the_busy_day(messages: list[dict]) -> bool:
        # Day 0 holds about 4,000 alerts, day 1 about 16,000: its first query stopped at 10,000,
        # so past 15,000 records the run is reading the halves of a split query.
        states = [m["value"] for m in messages if m["type"] == "STATE" and bookmark_values(m["value"], MONITOR_ALERTS)]
        return len(states) >= 1 and sum(m["type"] == "RECORD" for m in messages) > 15_000

    killed = run_tap_and_kill(config, catalog=catalog, kill_when=inside_the_busy_day)
    state = [m["value"] for m in killed.messages if m["type"] == "STATE"][-1]
    assert max(bookmark_values(state, MONITOR_ALERTS)) < iso(start + dt.timedelta(days=1)), "STATE claimed the busy day"
    resumed = run_tap_process(config, state=state, catalog=catalog)

    assert resumed.returncode == 0, resumed.stderr
    again = [record["sid"] for record in resumed.records[MONITOR_ALERTS]]
    assert_each_once(again, "alert")
    before = {record["sid"] for record in killed.records[MONITOR_ALERTS]}
    assert before | set(again) == {alert["sid"] for alert in alerts_of(alerts_emulator)}
    newest_emitted = max(bookmark_values(state, MONITOR_ALERTS))  # STATE may repeat where it resumed from
    for message in resumed.messages:
        if message["type"] == "RECORD":
            newest_emitted = max(newest_emitted, message["record"]["date_created"])
        elif message["type"] == "STATE":
            assert all(value <= newest_emitted for value in bookmark_values(message["value"], MONITOR_ALERTS))


def test_a_second_with_more_than_10000_alerts_fails_naming_the_stream_and_the_second(alerts_emulator):
    second = midnight(1) + dt.timedelta(hours=7, minutes=17, seconds=5)
    monitor_api(alerts_emulator).add_alerts([second] * 10_001, buffered=False)
    start, end = second - dt.timedelta(seconds=1), second + dt.timedelta(seconds=2)
    config = _alerts_config(alerts_emulator, start, end, page_size=1000)

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode != 0
    assert (
        f"twilio_monitor_alerts: account {DEFAULT_ACCOUNT_SID}: the second {iso(second)} holds too many" in run.stderr
    )
    assert "cap of 10000 alerts per query and cannot be split below 1 s" in run.stderr
    assert f"The last query: GET {alerts_emulator.base_url}/v1/Alerts?" in run.stderr
    assert not any(bookmark_values(state, MONITOR_ALERTS) for state in run.states), "the bookmark passed unread alerts"
