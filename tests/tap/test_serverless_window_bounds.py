"""Logs' StartDate is "after which" and EndDate "before which": a log created exactly on a
window's bound is read once, whether Twilio treats the bounds as exclusive or inclusive."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.common import SERVERLESS_LOGS, assert_each_once, iso_exact
from tests.serverless_helpers import environments, logs_requests, serverless_api
from tests.tap_runner import catalog_selecting, run_tap


@pytest.mark.parametrize("filters_inclusive", [False, True], ids=["exclusive", "inclusive"])
def test_a_log_on_a_window_bound_is_emitted_once(emulator, filters_inclusive):
    api = serverless_api(emulator)
    api.filters_inclusive = filters_inclusive
    environment = environments(emulator)[0]
    midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - dt.timedelta(hours=5)
    # The run's first window starts at `start`; the next one at midnight.
    on_bounds = api.add_logs(environment["service_sid"], environment["sid"], [start, midnight])
    config = emulator.tap_config(telnyx_api_key=None, start_date=iso_exact(start))

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    emitted = [record["sid"] for record in run.records[SERVERLESS_LOGS]]
    for log in on_bounds:
        assert emitted.count(log["sid"]) == 1, log["date_created"]


@pytest.mark.parametrize("filters_inclusive", [False, True], ids=["exclusive", "inclusive"])
def test_a_busy_day_read_as_pieces_emits_each_log_once_also_on_the_seconds_between_pieces(emulator, filters_inclusive):
    api = serverless_api(emulator)
    api.filters_inclusive = filters_inclusive
    environment = environments(emulator)[0]
    day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    # 800 logs around the day's every hour, three per second: wherever the pieces are cut, logs are there.
    moments = [
        day + dt.timedelta(hours=hour, seconds=second, milliseconds=250 * n)
        for hour in range(24)
        for second in range(-15, 15)
        for n in range(1 if second % 3 else 3)
    ]
    added = api.add_logs(environment["service_sid"], environment["sid"], moments)
    config = emulator.tap_config(
        telnyx_api_key=None, start_date=iso_exact(day), end_date=iso_exact(day + dt.timedelta(days=1)), page_size=100
    )

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    emitted = [r["sid"] for r in run.records[SERVERLESS_LOGS] if r["environment_sid"] == environment["sid"]]
    assert_each_once(emitted, "log")
    assert {log["sid"] for log in added if log["date_created"] >= iso_exact(day)} <= set(emitted)
    starts = {
        seen.url for seen in logs_requests(emulator) if environment["sid"] in seen.url and "PageToken" not in seen.url
    }
    assert len(starts) > 2, "the day was paged through, not read in pieces"
