"""Logs are kept 30 days: the emulator forgets older ones, the tap clamps an older start_date."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import requests

from tests.common import SERVERLESS_LOGS, iso_exact, parse
from tests.serverless_helpers import AUTH, environments, logs_requests, logs_url, serverless_config
from tests.tap_runner import catalog_selecting, run_tap


def test_emulator_never_returns_logs_older_than_30_days(emulator):
    environment = environments(emulator)[0]
    now = dt.datetime.now(dt.UTC)
    stored = emulator.serverless.logs_of(environment["sid"])
    assert any(parse(log["date_created"]) < now - dt.timedelta(days=30) for log in stored)

    response = requests.get(
        logs_url(emulator, environment),
        params={"StartDate": iso_exact(now - dt.timedelta(days=40)), "PageSize": "1000"},
        auth=AUTH,
        timeout=10,
    )

    assert response.status_code == 200
    returned = [parse(log["date_created"]) for log in response.json()["logs"]]
    assert returned
    assert min(returned) >= now - dt.timedelta(days=30)


def test_an_older_start_date_is_clamped_with_one_log_line(emulator):
    now = dt.datetime.now(dt.UTC)
    environment = environments(emulator)[0]
    (kept,) = emulator.serverless.add_logs(
        environment["service_sid"], environment["sid"], [now - dt.timedelta(days=29, hours=23)]
    )
    config = serverless_config(
        emulator,
        start_date=iso_exact(now - dt.timedelta(days=40)),
        end_date=iso_exact(now - dt.timedelta(days=29, hours=22)),
    )

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    assert run.stderr.count("the API keeps about 30 days of data") == 1  # not once per environment
    first_start = min(parse(parse_qs(urlsplit(seen.url).query)["StartDate"][0]) for seen in logs_requests(emulator))
    assert now - dt.timedelta(days=30) <= first_start <= now - dt.timedelta(days=29, hours=23, minutes=50)
    assert [record["sid"] for record in run.records[SERVERLESS_LOGS]] == [kept["sid"]]


def test_emulator_refuses_a_start_date_older_than_30_days_when_switched_to_refuse(emulator):
    emulator.serverless.retention_answer = "refuse"
    environment = environments(emulator)[0]
    now = dt.datetime.now(dt.UTC)

    def logs_from(days: int) -> requests.Response:
        params = {"StartDate": iso_exact(now - dt.timedelta(days=days))}
        return requests.get(logs_url(emulator, environment), params=params, auth=AUTH, timeout=10)

    refused, kept = logs_from(31), logs_from(29)

    assert refused.status_code == 400
    assert refused.json()["code"] == 20001
    assert kept.status_code == 200
