"""A `start_date` 90 days back, further than any API keeps: the run succeeds and loads everything
still kept, whether the APIs trim such a query silently or refuse it with HTTP 400."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, SERVERLESS_LOGS, TASKROUTER_EVENTS, TELNYX_AUDIT_EVENTS
from tests.monitor_helpers import alerts_of, events_of
from tests.serverless_helpers import logs_since
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import all_event_sids
from tests.telnyx_helpers import events as telnyx_events

#: Refused as documented whatever the switch: their windows must start inside the 30 days.
CLAMPED_PATHS = ("/v1/Alerts", "/v1/Workspaces/", "/Logs")


@pytest.mark.parametrize("answer", ["trim", "refuse"])
def test_every_stream_loads_everything_still_kept(emulator, answer):
    emulator.answer_old_queries(answer)
    emulator.telnyx.retention = dt.timedelta(days=30)  # not documented: this one keeps 30 days
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
    config = emulator.tap_config(start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"))

    run = run_tap(config)

    assert run.returncode == 0, run.stderr
    ids = {stream: {r.get("sid") or r.get("id") for r in records} for stream, records in run.records.items()}
    assert ids[MONITOR_EVENTS] == {e["sid"] for e in events_of(emulator)}
    assert ids[MONITOR_ALERTS] == {a["sid"] for a in alerts_of(emulator)}
    assert ids[TASKROUTER_EVENTS] == all_event_sids(emulator)
    assert ids[SERVERLESS_LOGS] == set(logs_since(emulator, dt.datetime.now(dt.UTC) - dt.timedelta(days=30)))
    assert ids[TELNYX_AUDIT_EVENTS] == {event["id"] for event in telnyx_events(emulator)}
    refused = [seen.url for seen in emulator.seen if seen.status == 400]
    assert not [url for url in refused if any(path in url for path in CLAMPED_PATHS)]
    assert bool(refused) == (answer == "refuse"), "Monitor Events and Telnyx ask for the old windows"
