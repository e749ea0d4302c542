"""Twilio refuses requests over an account's concurrency limit (HTTP 429, error 20429, the load in
`Twilio-Concurrent-Requests`); it does not publish the limit. The tap then puts fewer requests in
flight for that account, and more again as answers come back clean: a run under a limit lower
than `max_concurrent_requests` completes with every record once, without hammering the API.
Whether such a 429 carries `Retry-After` is not documented: both readings run."""

from __future__ import annotations

import pytest

from tests.common import MONITOR_EVENTS, TASKROUTER_EVENTS, assert_each_once
from tests.monitor_helpers import events_of
from tests.tap_runner import catalog_selecting, run_tap
from tests.taskrouter_helpers import all_event_sids


@pytest.fixture(params=[False, True], ids=["no-retry-after", "retry-after"])
def limited_emulator(request, emulator):
    emulator.twilio_concurrency_limit = 3
    emulator.limits_send_retry_after = request.param
    emulator.latency = 0.03  # answers overlap: the tap's 8 requests in flight meet the limit of 3
    return emulator


def test_a_run_under_an_account_limit_of_3_completes_with_every_record_once_and_few_refusals(limited_emulator):
    config = limited_emulator.tap_config(telnyx_api_key=None, page_size=10)

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    emitted = [record["sid"] for record in run.records[MONITOR_EVENTS]]
    assert_each_once(emitted, "event")
    assert set(emitted) == {event["sid"] for event in events_of(limited_emulator)}
    refused = limited_emulator.twilio_concurrency_refusals()
    assert refused > 0, "the limit was never reached: the test tests nothing"
    assert "at most 4 requests in flight from now on (was 8)" in run.stderr
    assert "which the API says has 4 requests in flight" in run.stderr
    requests = sum(1 for seen in limited_emulator.seen if "/v1/Events" in seen.url)
    # Retried at 8 in flight, without adapting, most of every round would be refused.
    assert refused < requests / 5, f"{refused} of {requests} requests refused"


def test_every_twilio_stream_of_the_account_shares_the_adapted_limit(limited_emulator):
    config = limited_emulator.tap_config(telnyx_api_key=None, page_size=10)

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS, TASKROUTER_EVENTS]))

    assert run.returncode == 0, run.stderr
    assert_each_once([record["sid"] for record in run.records[TASKROUTER_EVENTS]], "event")
    assert {record["sid"] for record in run.records[TASKROUTER_EVENTS]} == all_event_sids(limited_emulator)
    # The second stream starts at the limit the first one found, not at 8 again.
    assert run.stderr.count("requests in flight from now on (was 8)") == 1
