"""Logs' StartDate is "after which" and EndDate "before which": a log created exactly on a
window's bound is read once, whether Twilio treats the bounds as exclusive or inclusive."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.common import SERVERLESS_LOGS, iso_exact
from tests.serverless_helpers import environments, serverless_api
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
