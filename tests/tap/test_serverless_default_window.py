"""Without StartDate the Logs API answers only the last day: the tap always sends the window."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import requests

from tests.common import SERVERLESS_LOGS, iso_exact, parse
from tests.serverless_helpers import (
    AUTH,
    environments,
    logs_requests,
    logs_since,
    logs_url,
    serverless_config,
    service_named,
)
from tests.tap_runner import catalog_selecting, run_tap


def _all_pages(url: str, params: dict) -> list[dict]:
    logs: list[dict] = []
    next_url: str | None = url
    while next_url:
        body = requests.get(next_url, params=params, auth=AUTH, timeout=10).json()
        logs += body["logs"]
        next_url, params = body["meta"]["next_page_url"], {}
    return logs


def test_emulator_without_start_date_answers_only_the_last_day(emulator):
    environment = environments(emulator)[0]

    returned = _all_pages(logs_url(emulator, environment), {"PageSize": 1000})

    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert {log["sid"] for log in returned} == set(logs_since(emulator, day_ago, environment["sid"]))
    older = set(logs_since(emulator, day_ago - dt.timedelta(days=20), environment["sid"]))
    assert len(older) > len(returned), "the data set needs logs older than one day"


def test_emulator_with_start_date_answers_older_logs(emulator):
    environment = environments(emulator)[0]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=12)

    returned = _all_pages(logs_url(emulator, environment), {"StartDate": iso_exact(since), "PageSize": 1000})

    assert {log["sid"] for log in returned} == set(logs_since(emulator, since, environment["sid"]))


def test_every_logs_request_carries_start_and_end_date(emulator):
    config = serverless_config(emulator, page_size=10)
    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    seen = logs_requests(emulator)
    assert len(seen) >= 10
    for request in seen:
        query = parse_qs(urlsplit(request.url).query)
        assert parse(query["StartDate"][0]) < parse(query["EndDate"][0]), request.url


def test_the_tap_reads_logs_older_than_one_day(emulator):
    service_sid = service_named(emulator, "service-1")["sid"]
    (environment,) = emulator.serverless.environments_of(service_sid)
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(days=2, hours=11), now - dt.timedelta(days=1, hours=23)
    config = serverless_config(
        emulator, twilio_service_sids=[service_sid], start_date=iso_exact(start), end_date=iso_exact(end)
    )

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    expected = {
        sid for sid, log in logs_since(emulator, start, environment["sid"]).items() if parse(log["date_created"]) < end
    }
    assert expected, "the data set has logs two days old"
    assert sorted(record["sid"] for record in run.records[SERVERLESS_LOGS]) == sorted(expected)
