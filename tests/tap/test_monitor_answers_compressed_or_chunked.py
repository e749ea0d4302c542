"""However an answer's body is framed (a Content-Length, gzip when asked for, as the vendors' edges
answer, or chunked without a length), the tap reads each page whole, once (`responses.WholeBodyAdapter`
reads a body in one call): every event is written exactly once, and a connection that breaks
halfway through a body is retried, never half-read."""

from __future__ import annotations

import pytest

from tests.common import MONITOR_EVENTS
from tests.monitor_helpers import assert_every_event_once, events_only_settings
from tests.tap_runner import run_tap

FRAMINGS = ["content-length", "gzip", "chunked"]


@pytest.fixture
def events_only(emulator):
    return events_only_settings(emulator, page_size=50, max_request_retries=3)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_event_is_read_once_however_the_body_is_framed(emulator, events_only, framing):
    config, catalog = events_only
    emulator.answer_framing = framing

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    if framing == "gzip":
        assert all("gzip" in seen.headers.get("Accept-Encoding", "") for seen in emulator.seen)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_body_cut_halfway_is_retried(emulator, events_only, framing):
    config, catalog = events_only
    emulator.answer_framing = framing
    emulator.faults.add("/v1/Events", kind="cut", times=2)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    assert run.report_of(MONITOR_EVENTS, f"account {config['twilio_account_sid']}")["retries"]["truncated_body"] == 2
