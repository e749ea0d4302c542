"""Logs share milliseconds and come in no reliable order: the tap assumes no order."""

from __future__ import annotations

import collections
import datetime as dt
import re

import requests

from tests.common import SERVERLESS_LOGS
from tests.serverless_helpers import AUTH, environments, logs_since, logs_url, serverless_config
from tests.tap_runner import catalog_selecting, run_tap

MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_emulator_pages_are_not_in_date_order_and_share_milliseconds(emulator):
    environment = environments(emulator)[0]

    logs = requests.get(logs_url(emulator, environment), params={"PageSize": 1000}, auth=AUTH, timeout=10).json()[
        "logs"
    ]

    dates = [log["date_created"] for log in logs]
    assert all(MILLISECONDS.match(date) for date in dates)
    assert dates != sorted(dates)
    assert dates != sorted(dates, reverse=True)
    assert max(collections.Counter(dates).values()) >= 2


def test_logs_sharing_a_millisecond_are_all_emitted_with_millisecond_dates(emulator):
    environment = environments(emulator)[0]
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=42, microseconds=17_000)
    shared = emulator.serverless.add_logs(environment["service_sid"], environment["sid"], [moment] * 25)
    config = serverless_config(emulator, page_size=10)  # the 25 straddle pages

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    emitted = [record for record in run.records[SERVERLESS_LOGS] if record["date_created"] == shared[0]["date_created"]]
    assert sorted(record["sid"] for record in emitted) == sorted(log["sid"] for log in shared)
    assert all(MILLISECONDS.match(record["date_created"]) for record in run.records[SERVERLESS_LOGS])
    assert set(logs_since(emulator, config["start_date"])) == {r["sid"] for r in run.records[SERVERLESS_LOGS]}
