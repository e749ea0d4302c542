"""Alerts' StartDate and EndDate are both inclusive ("on or after", "on or before"), to the second."""

from __future__ import annotations

import datetime as dt
import itertools
from urllib.parse import parse_qs, urlsplit

from tests.common import MONITOR_ALERTS
from tests.tap_runner import catalog_selecting, run_tap


def test_consecutive_alert_windows_leave_no_second_unread(alerts_emulator):
    # An alert recorded at 23:59:59.5 must be in some window even if Twilio compares milliseconds.
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).replace(microsecond=0)
    # Day windows (one request at a time): an empty range is otherwise one query, with no boundary.
    config = alerts_emulator.tap_config(telnyx_api_key=None, start_date=start.isoformat(), max_concurrent_requests=1)

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    queries = [parse_qs(urlsplit(seen.url).query) for seen in alerts_emulator.seen if "/v1/Alerts" in seen.url]
    windows = sorted({(query["StartDate"][0], query["EndDate"][0]) for query in queries})
    assert len(windows) >= 4
    for (_, end), (next_start, _) in itertools.pairwise(windows):
        assert end >= next_start
