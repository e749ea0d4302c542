"""Per-credential limits (limits.py), in process: owned by one run, shared by its streams, never by
two runs of the same process; Telnyx's rate window pauses new requests until it resets."""

from __future__ import annotations

import requests

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tap_events.client import TapEventsStream
from tap_events.limits import MAX_RESET_WAIT_SECONDS, AdaptiveLimit, Limits, pause_while_spent, seconds_until_reset
from tap_events.tap import TapEvents

CONFIG = {"twilio_account_sid": DEFAULT_ACCOUNT_SID, "twilio_auth_token": DEFAULT_AUTH_TOKEN}


def _answer(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def test_every_stream_of_a_run_holds_the_runs_context_and_two_runs_share_nothing():
    first, second = TapEvents(config=CONFIG), TapEvents(config=CONFIG)

    streams = list(first.streams.values())
    assert streams and all(isinstance(stream, TapEventsStream) and stream.run is first.run for stream in streams)
    assert first.run.limits is not second.run.limits
    assert first.run.report is not second.run.report
    assert first.run_report is first.run.report


def test_one_limit_per_credential_and_one_logs_limiter_per_account():
    limits = Limits()

    assert limits.in_flight("Twilio account AC1", 8) is limits.in_flight("Twilio account AC1", 8)
    assert limits.in_flight("Twilio account AC1", 8) is not limits.in_flight("Twilio account AC2", 8)
    assert limits.logs_rate("AC1") is limits.logs_rate("AC1")
    assert limits.logs_rate("AC1") is not limits.logs_rate("AC2")
    assert limits.logs_rate("AC1") is not Limits().logs_rate("AC1")


def test_a_spent_telnyx_window_pauses_new_requests_until_it_resets():
    now = [100.0]
    limit = AdaptiveLimit(4, clock=lambda: now[0])

    pause_while_spent(limit, _answer(200, **{"x-ratelimit-remaining": "3", "x-ratelimit-reset": "5"}))
    assert limit._paused_until == 0.0  # requests left in the window: no pause
    pause_while_spent(limit, _answer(200, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": "5"}))
    assert limit._paused_until == 105.0
    pause_while_spent(limit, _answer(429, **{"x-ratelimit-reset": "3600"}))
    assert limit._paused_until == 100.0 + MAX_RESET_WAIT_SECONDS


def test_a_reset_is_read_as_seconds_or_as_a_unix_time():
    assert seconds_until_reset(_answer(200, **{"x-ratelimit-reset": "7"})) == 7.0
    assert seconds_until_reset(_answer(200, **{"x-ratelimit-reset": "soon"})) is None
    assert seconds_until_reset(_answer(200)) is None
    assert seconds_until_reset(_answer(200, **{"x-ratelimit-reset": "1000000001"})) == 0.0  # long past
