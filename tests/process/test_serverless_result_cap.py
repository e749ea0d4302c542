"""Twilio returns at most 10,000 logs per query, silently: the tap splits windows until complete."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from tests.common import SERVERLESS_LOGS, assert_each_once, iso_exact
from tests.serverless_helpers import (
    AUTH,
    environment_bookmark,
    environment_bookmarks,
    environments,
    logs_since,
    logs_url,
    serverless_config,
)
from tests.tap_runner import catalog_selecting, run_tap_process


def _whole_hour(hours_ago: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return now - dt.timedelta(hours=hours_ago)


def test_emulator_stops_at_10000_results_without_an_error(emulator):
    emulator.serverless.rate_limit = 1000  # this test is about the cap, not the rate
    environment = environments(emulator)[0]
    hour = _whole_hour(2)
    emulator.serverless.add_burst(environment["service_sid"], environment["sid"], 10_500, hour, dt.timedelta(hours=1))
    url: str | None = logs_url(emulator, environment)
    params: dict[str, str] | None = {
        "StartDate": iso_exact(hour),
        "EndDate": iso_exact(hour + dt.timedelta(hours=1)),
        "PageSize": "1000",
    }

    returned, statuses = [], []
    while url:
        response = requests.get(url, params=params, auth=AUTH, timeout=30)
        statuses.append(response.status_code)
        body = response.json()
        returned += [log["sid"] for log in body["logs"]]
        url, params = body["meta"]["next_page_url"], None

    assert set(statuses) == {200}
    assert len(returned) == len(set(returned)) == 10_000
    in_the_hour = {
        sid
        for sid, log in logs_since(emulator, hour, environment["sid"]).items()
        if log["date_created"] <= iso_exact(hour + dt.timedelta(hours=1))
    }
    assert len(in_the_hour) > 10_000
    assert set(returned) < in_the_hour
    assert emulator.serverless.capped_queries == 1


@pytest.mark.parametrize("max_concurrent_requests", [1, 8])
def test_a_burst_of_13000_logs_in_one_hour_arrives_whole(emulator, max_concurrent_requests):
    environment = environments(emulator)[0]
    hour = _whole_hour(2)
    api = emulator.serverless
    burst = api.add_burst(environment["service_sid"], environment["sid"], 13_000, hour, dt.timedelta(hours=1))
    # On the window's edges and on the first split point.
    edges = [hour, hour + dt.timedelta(minutes=30), hour + dt.timedelta(hours=1)]
    burst += api.add_logs(environment["service_sid"], environment["sid"], edges * 2)
    config = serverless_config(
        emulator, start_date=iso_exact(hour), page_size=1000, max_concurrent_requests=max_concurrent_requests
    )

    run = run_tap_process(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    if max_concurrent_requests == 1:  # else the busy window is read as pieces, which may not reach the cap
        assert api.capped_queries >= 1, "the hour was never read whole: the test does not test the cap"
    emitted = [r["sid"] for r in run.records[SERVERLESS_LOGS] if r["environment_sid"] == environment["sid"]]
    assert_each_once(emitted, "log")
    assert set(emitted) == set(logs_since(emulator, hour, environment["sid"]))
    assert {log["sid"] for log in burst} <= set(emitted)
    newest = max(log["date_created"] for log in api.logs_of(environment["sid"]))
    assert environment_bookmark(run, environment) == newest


def test_a_second_with_more_than_10000_logs_fails_loudly(emulator):
    environment = environments(emulator)[0]
    second = _whole_hour(2) + dt.timedelta(minutes=17, seconds=5)
    emulator.serverless.add_burst(
        environment["service_sid"],
        environment["sid"],
        10_001,
        second + dt.timedelta(milliseconds=100),
        dt.timedelta(milliseconds=800),
    )
    config = serverless_config(
        emulator,
        start_date=iso_exact(second - dt.timedelta(seconds=1)),
        end_date=iso_exact(second + dt.timedelta(seconds=1)),
        page_size=1000,
    )

    run = run_tap_process(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode != 0
    assert "cap of 10000 logs per query and cannot be split below 1 s" in run.stderr
    assert environment["sid"] in run.stderr
    bookmarks = [value for state in run.states for value in environment_bookmarks(state, environment)]
    assert not any(bookmarks), "the bookmark moved past logs that were never read"
