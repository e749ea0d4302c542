"""`python -m emulator` on its own: the switches that make every API refuse queries older than it
keeps, and that limit Twilio's concurrent requests and Telnyx's request rate."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import requests

from emulator.__main__ import configured
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN


def test_retention_answer_refuse_makes_monitor_events_refuse_old_queries():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--retention-answer", "refuse"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")

        response = requests.get(
            f"{base_url}/v1/Events",
            params={"StartDate": old},
            auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
            timeout=10,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    assert response.status_code == 400


def test_the_request_limits_are_switches_of_the_command_line():
    emulator, _ = configured(
        ["--twilio-concurrency-limit", "3", "--telnyx-rate-limit", "100/60", "--limits-send-retry-after"]
    )

    assert emulator.twilio_concurrency_limit == 3
    assert emulator.telnyx_rate_limit == (100, 60.0)
    assert emulator.limits_send_retry_after


def test_without_them_there_is_no_limit():
    emulator, _ = configured([])

    assert (emulator.twilio_concurrency_limit, emulator.telnyx_rate_limit) == (None, None)
    assert not emulator.limits_send_retry_after
