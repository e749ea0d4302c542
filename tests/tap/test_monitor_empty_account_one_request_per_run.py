"""An account without Monitor Events or Alerts costs one request per stream on a first run (its
30 days are one query each) and one on every later run, which starts where the API's clock said
the last run read it, minus the lookback: not 30 requests, forever."""

from __future__ import annotations

import collections
import datetime as dt
from urllib.parse import parse_qs, urlsplit

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, parse
from tests.tap_runner import catalog_selecting, run_tap

LOOKBACK = dt.timedelta(minutes=10)


def _requests(emulator: Emulator) -> collections.Counter[str]:
    return collections.Counter(urlsplit(seen.url).path for seen in emulator.seen)


def test_an_empty_account_costs_one_request_per_stream_and_run():
    with Emulator(monitor_events=0, monitor_alerts=0) as emulator:
        config = emulator.tap_config(telnyx_api_key=None, lookback_window_minutes=LOOKBACK // dt.timedelta(minutes=1))
        catalog = catalog_selecting(config, [MONITOR_EVENTS, MONITOR_ALERTS])
        first = run_tap(config, catalog=catalog)
        assert first.returncode == 0, first.stderr
        assert _requests(emulator) == {"/v1/Events": 1, "/v1/Alerts": 1}
        emulator.seen.clear()

        second = run_tap(config, state=first.final_state, catalog=catalog)

        assert second.returncode == 0, second.stderr
        assert [seen.status for seen in emulator.seen] == [200, 200]
        for stream, path in ((MONITOR_EVENTS, "/v1/Events"), (MONITOR_ALERTS, "/v1/Alerts")):
            entry = first.final_state["bookmarks"][stream]["partitions"][0]
            assert entry["context"] == {"account_sid": DEFAULT_ACCOUNT_SID}
            read_through = parse(entry["read_through_api_clock"])
            query = next(parse_qs(urlsplit(seen.url).query) for seen in emulator.seen if path in seen.url)
            # Monitor Events filter whole days; Alerts start their buffering lead earlier.
            assert parse(query["StartDate"][0]) >= read_through - LOOKBACK - dt.timedelta(hours=1)
