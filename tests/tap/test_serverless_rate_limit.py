"""Logs allow 5 requests per second per account: the tap stays under it and survives a 429."""

from __future__ import annotations

import datetime as dt
import threading
import time

import requests

from tap_events.limits import SlidingWindowRateLimiter
from tests.common import SERVERLESS_LOGS, assert_each_once
from tests.serverless_helpers import (
    AUTH,
    environments,
    logs_requests,
    logs_since,
    logs_url,
    serverless_config,
    service_named,
)
from tests.tap_runner import catalog_selecting, run_tap


def _starts_within(starts: list[float], count: int, period: float) -> bool:
    """Whether `count` of these start times fall inside one `period`."""
    ordered = sorted(starts)
    return any(ordered[i + count - 1] - ordered[i] < period for i in range(len(ordered) - count + 1))


def test_emulator_answers_429_to_the_sixth_logs_request_in_a_second(emulator):
    url = logs_url(emulator, environments(emulator)[0])

    answers = [requests.get(url, auth=AUTH, timeout=10) for _ in range(6)]

    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.json()["code"] == 20429
    assert refused.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert requests.get(url, auth=AUTH, timeout=10).status_code == 200


def test_limiter_never_starts_six_requests_in_one_period_across_threads():
    limiter = SlidingWindowRateLimiter(max_requests=5, period=0.25)
    starts: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(5):
            limiter.wait()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(starts) == 20
    assert not _starts_within(starts, 6, 0.25 - 0.01)
    assert _starts_within(starts, 5, 0.25), "the limiter should still allow bursts of five"


def test_limiter_pause_holds_every_request():
    clock = [100.0]
    limiter = SlidingWindowRateLimiter(
        max_requests=5,
        period=1.0,
        clock=lambda: clock[0],
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
    )

    limiter.pause(2.0)

    assert limiter.wait() == 2.0
    assert clock[0] == 102.0


def test_a_normal_run_never_meets_the_rate_limit(emulator):
    config = serverless_config(emulator, page_size=10)  # about 15 requests
    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    statuses = [seen.status for seen in logs_requests(emulator)]
    assert len(statuses) >= 10, "too few Logs requests to test the limit"
    assert 429 not in statuses
    assert emulator.serverless.rate_limited == 0
    arrivals = [request.arrived for request in emulator.serverless.log_requests]
    assert not _starts_within(arrivals, 6, 1.0)


def test_a_run_survives_an_injected_429(emulator):
    environment = environments(emulator)[0]
    path = logs_url(emulator, environment).removeprefix(emulator.base_url)
    emulator.faults.add(path, status=429, code=20429, retry_after="1", times=2)
    config = serverless_config(emulator)

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    assert [seen.status for seen in logs_requests(emulator)].count(429) == 2
    assert "HTTP 429" in run.stderr
    emitted = [record["sid"] for record in run.records[SERVERLESS_LOGS]]
    assert_each_once(emitted, "log")
    assert set(emitted) == set(logs_since(emulator, config["start_date"]))


def test_a_run_waits_out_a_stricter_limit_after_each_429(emulator):
    """Another client of the account uses part of its limit: the emulator allows this one 2/s."""
    emulator.serverless.rate_limit = 2
    service = service_named(emulator, "service-0")  # two environments
    # Two days back in pages of 5: each environment's range holds several pages, read as windows at once.
    start_date = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    config = serverless_config(
        emulator, twilio_service_sids=[service["sid"]], start_date=f"{start_date:%Y-%m-%dT%H:%M:%SZ}", page_size=5
    )

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    seen = emulator.serverless.log_requests
    assert emulator.serverless.rate_limited >= 1, "the stricter limit was never reached"
    for index, refused in enumerate(seen):
        if refused.status == 429:
            retry = next(request for request in seen[index + 1 :] if request.url == refused.url)
            assert retry.arrived - refused.arrived >= 1.0, "Retry-After: 1 was not honoured"
    emitted = [record["sid"] for record in run.records[SERVERLESS_LOGS]]
    service_sid = config["twilio_service_sids"][0]
    expected = [
        sid for sid, log in logs_since(emulator, config["start_date"]).items() if log["service_sid"] == service_sid
    ]
    assert sorted(emitted) == sorted(expected)
