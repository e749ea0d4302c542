"""Retry waits, in process: exponential with jitter, never shorter than the server's Retry-After."""

from __future__ import annotations

import datetime as dt
import email.utils

import requests

from tap_events.http_client import backoff_waits, retry_after_seconds


def _answer(retry_after: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def _waits(exceptions: list[Exception]) -> list[float]:
    waits = backoff_waits(1.0, retry_after_seconds)
    assert next(waits) == 0.0
    return [waits.send(exception) for exception in exceptions]


def test_waits_grow_exponentially_with_jitter_up_to_a_minute():
    waits = _waits([ConnectionError()] * 8)

    for attempt, wait in enumerate(waits):
        ceiling = min(60.0, 2.0**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_a_retry_after_in_seconds_is_never_shortened():
    exception = requests.exceptions.HTTPError(response=_answer("30"))

    assert all(wait >= 30 for wait in _waits([exception] * 3))


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)

    assert retry_after_seconds(_answer("7")) == 7.0
    assert 100 < (retry_after_seconds(_answer(email.utils.format_datetime(later))) or 0) <= 120
    assert retry_after_seconds(_answer("soon")) is None
    assert retry_after_seconds(_answer(None)) is None
    assert retry_after_seconds(_answer("-5")) == 0.0
