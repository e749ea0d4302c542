"""Telnyx counts requests per time window and says so in `x-ratelimit-limit`, `-remaining` and
`-reset`; over the limit it answers 429 (error 10011). The tap starts no request once a window's
requests are spent until the window resets, so a rate-limited run completes with every event
once and few refusals, whether or not the 429 carries `Retry-After` (undocumented)."""

from __future__ import annotations

import pytest

from emulator.server import DEFAULT_TELNYX_API_KEY
from tests.common import TELNYX_AUDIT_EVENTS, assert_each_once
from tests.tap_runner import run_tap
from tests.telnyx_helpers import events, telnyx_config

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


@pytest.mark.parametrize("retry_after", [False, True], ids=["no-retry-after", "retry-after"])
def test_a_rate_limited_run_waits_for_the_window_to_reset_and_emits_every_event_once(emulator, retry_after):
    emulator.telnyx_rate_limit = (4, 1.0)
    emulator.limits_send_retry_after = retry_after
    emulator.latency = 0.01

    run = run_tap(telnyx_config(emulator, page_size=10))  # enough rate windows to tell a pause from none

    assert run.returncode == 0, run.stderr
    emitted = [record["id"] for record in run.records[TELNYX_AUDIT_EVENTS]]
    assert_each_once(emitted, "event")
    assert set(emitted) == {event["id"] for event in events(emulator)}
    requests = sum(1 for seen in emulator.seen if "/v2/audit_events" in seen.url)
    assert requests > 2 * 4, "the run fits in one window: the test tests nothing"
    # Only the requests already in flight when a window's last one was answered can be refused
    # (without the pause, about a third of all requests are).
    assert emulator.telnyx_rate_limit_refusals(DEFAULT_TELNYX_API_KEY) <= requests / 4
