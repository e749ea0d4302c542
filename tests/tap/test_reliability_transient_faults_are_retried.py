"""5xx, resets, timeouts, 429s and truncated bodies are retried, and the run still emits every record once."""

from __future__ import annotations

import pytest

from tests.monitor_helpers import assert_every_event_once, events_only_settings
from tests.tap_runner import run_tap


@pytest.fixture
def events_only(emulator):
    return events_only_settings(emulator, page_size=50, max_request_retries=3, request_timeout_seconds=2)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(emulator, events_only, status):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", status=status, times=2)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    assert [seen.status for seen in emulator.seen].count(status) == 2
    assert f"HTTP {status}" in run.stderr  # each retry is logged with its cause


@pytest.mark.parametrize("kind", ["reset", "truncate", "not_json", "no_records"])
def test_broken_answers_are_retried_never_half_parsed(emulator, events_only, kind):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", kind=kind, times=2)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)


def test_a_slow_answer_times_out_and_is_retried(emulator, events_only):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", kind="delay", delay=3.0, times=1)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    assert "ReadTimeout" in run.stderr


@pytest.mark.parametrize("retry_after", ["seconds", "http-date"])
def test_429_waits_as_long_as_retry_after_asks(emulator, events_only, retry_after):
    config, catalog = events_only
    if retry_after == "seconds":
        emulator.faults.add("/v1/Events", status=429, code=20429, retry_after="3", times=1)
    else:
        emulator.faults.add("/v1/Events", status=429, code=20429, retry_after_date_in=4, times=1)

    run = run_tap(config, catalog=catalog)

    assert_every_event_once(emulator, run)
    refused = next(seen for seen in emulator.seen if seen.status == 429)
    retried = next(seen for seen in emulator.seen if seen.url == refused.url and seen.at > refused.at)
    waited = retried.at - refused.at
    assert waited >= 2.5  # Retry-After is honoured (an HTTP date is rounded to whole seconds)
