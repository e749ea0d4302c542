"""Failures that are not retried, or retried in vain, end their partition with a message naming
stream, endpoint, HTTP status and API error code, and the run exits non-zero; STATE never claims
unemitted records."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from tap_events.timestamps import format_timestamp, utc_now
from tests.common import MONITOR_EVENTS, bookmark_values, twilio_config
from tests.tap_runner import catalog_selecting, run_tap_process


def _state_never_ahead_of_records(run) -> None:
    newest = ""
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == MONITOR_EVENTS:
            newest = max(newest, message["record"]["event_date"])
        if message["type"] == "STATE":
            assert all(value <= newest for value in bookmark_values(message["value"], MONITOR_EVENTS))


def test_exhausted_retries_fail_with_stream_endpoint_status_and_code(emulator):
    config = twilio_config(emulator, max_request_retries=2)
    catalog = catalog_selecting(config, [MONITOR_EVENTS])
    emulator.faults.add("/v1/Events", status=503, code=20503, times=1000)

    run = run_tap_process(config, catalog=catalog)

    assert run.returncode != 0
    assert MONITOR_EVENTS in run.stderr
    assert "/v1/Events" in run.stderr
    assert "HTTP 503" in run.stderr and "Twilio error 20503" in run.stderr
    assert "gave up after retrying" in run.stderr
    assert "Traceback" not in run.stderr
    tries = Counter(seen.url for seen in emulator.seen if seen.status == 503)
    assert max(tries.values()) == 3  # one try and two retries per request (windows are read concurrently)


def test_an_answer_without_records_is_not_read_as_an_empty_page(emulator):
    config = twilio_config(emulator, max_request_retries=1)
    emulator.faults.add("/v1/Events", kind="no_records", times=1000)

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode != 0
    assert MONITOR_EVENTS in run.stderr and "/v1/Events" in run.stderr
    assert "HTTP 200 without a list of records under 'events'" in run.stderr
    assert "Traceback" not in run.stderr
    assert not run.records[MONITOR_EVENTS]


def test_a_failure_mid_run_leaves_a_state_that_claims_only_emitted_records(emulator):
    config = twilio_config(emulator, max_request_retries=0, page_size=10)
    catalog = catalog_selecting(config, [MONITOR_EVENTS])
    # Let the first days through, then fail every request.
    emulator.faults.add("/v1/Events", status=500, times=1000, skip=40)

    run = run_tap_process(config, catalog=catalog)

    assert run.returncode != 0
    assert run.records[MONITOR_EVENTS], "some records were emitted before the failure"
    _state_never_ahead_of_records(run)


def test_refused_credentials_are_not_retried_and_name_the_provider(emulator):
    config = twilio_config(emulator, twilio_auth_token="not-the-token")

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode != 0
    assert "authentication failed for Twilio" in run.stderr
    assert "HTTP 401" in run.stderr and "Twilio error 20003" in run.stderr
    refused = Counter(seen.url for seen in emulator.seen if seen.status == 401)
    assert refused and set(refused.values()) == {1}, "a 401 is never retried"


def test_forbidden_is_reported_as_an_authentication_failure(emulator):
    emulator.faults.add("/v1/Events", status=403, code=20403, times=1)

    config = twilio_config(emulator)
    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode != 0
    assert "authentication failed for Twilio" in run.stderr and "HTTP 403" in run.stderr


def test_a_bad_request_shows_the_request_and_the_api_message(emulator):
    # Inside the retention: a 400 for a window older than the API keeps is read as a retention refusal.
    config = twilio_config(emulator, start_date=format_timestamp(utc_now() - dt.timedelta(days=2)))
    emulator.faults.add("/v1/Events", status=400, code=20001, times=1)

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode != 0
    assert "GET http://127.0.0.1" in run.stderr and "StartDate=" in run.stderr
    assert "HTTP 400" in run.stderr and "Twilio error 20001: Injected fault" in run.stderr
    assert set(Counter(seen.url for seen in emulator.seen if seen.status == 400).values()) == {1}
