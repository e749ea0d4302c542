"""The emulator's switch `twilio_concurrency_limit`: every Twilio API of an account shares one
count of requests in flight; one over the limit is refused at once with 429 and error 20429, and
every Twilio answer reports the count in `Twilio-Concurrent-Requests`.

Requests are held in flight by the TaskRouter hook `before_events_request` (called while the
emulator answers), so that nothing here depends on timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests

from emulator import Emulator
from emulator.limits import CONCURRENT_REQUESTS_HEADER
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.monitor_helpers import get_alerts, get_events
from tests.serverless_helpers import AUTH, environments, logs_url
from tests.taskrouter_helpers import get_events as get_taskrouter_events
from tests.taskrouter_helpers import taskrouter_api, workspace_sids
from tests.telnyx_helpers import get_audit_events

OTHER_ACCOUNT = "AC" + "00000000000000000000000000000042"
OTHER_TOKEN = "other-auth-token"


@contextmanager
def held_in_flight(emulator: Emulator, count: int) -> Iterator[list[Future[requests.Response]]]:
    """`count` TaskRouter Events requests the emulator is answering, held there until the block
    ends; yields their answers to come."""
    arrived = threading.Semaphore(0)
    release = threading.Event()

    def hold(request: object, workspace_sid: str) -> None:
        arrived.release()
        release.wait(30)

    taskrouter_api(emulator).before_events_request = hold
    workspace = workspace_sids(emulator)[0]
    with ThreadPoolExecutor(count) as pool:
        answers = [pool.submit(get_taskrouter_events, emulator, workspace) for _ in range(count)]
        try:
            for _ in range(count):
                assert arrived.acquire(timeout=30), "a held request did not reach the emulator"
            yield answers
        finally:
            release.set()
    taskrouter_api(emulator).before_events_request = None


def in_flight_header(answer: requests.Response) -> int:
    return int(answer.headers[CONCURRENT_REQUESTS_HEADER])


def test_a_request_over_the_accounts_limit_is_refused_with_429_and_error_20429(emulator):
    emulator.twilio_concurrency_limit = 2

    with held_in_flight(emulator, 2) as held:
        refused = get_events(emulator)

    assert refused.status_code == 429
    assert refused.json() == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    assert in_flight_header(refused) == 3
    assert "Retry-After" not in refused.headers
    assert [answer.result().status_code for answer in held] == [200, 200]
    assert emulator.twilio_concurrency_refusals(DEFAULT_ACCOUNT_SID) == 1


def test_the_other_reading_sends_retry_after_with_the_refusal(emulator):
    emulator.twilio_concurrency_limit = 1
    emulator.limits_send_retry_after = True

    with held_in_flight(emulator, 1):
        refused = get_events(emulator)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"


def test_every_twilio_api_of_the_account_shares_its_limit(emulator):
    emulator.twilio_concurrency_limit = 1
    environment = environments(emulator)[0]

    with held_in_flight(emulator, 1):
        answers = {
            "monitor events": get_events(emulator),
            "monitor alerts": get_alerts(emulator),
            "taskrouter workspaces": requests.get(f"{emulator.base_url}/v1/Workspaces", auth=AUTH, timeout=10),
            "serverless logs": requests.get(logs_url(emulator, environment), auth=AUTH, timeout=10),
        }

    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(answers, 429)
    assert emulator.twilio_concurrency_refusals() == 4


def test_a_slot_is_free_again_when_its_client_has_the_answer(emulator):
    emulator.twilio_concurrency_limit = 1

    with held_in_flight(emulator, 1) as held:
        assert get_events(emulator).status_code == 429
    held[0].result()
    after = get_events(emulator)

    assert after.status_code == 200
    assert in_flight_header(after) == 1


def test_each_account_has_its_own_limit(emulator):
    emulator.add_twilio_account(OTHER_ACCOUNT, OTHER_TOKEN)
    emulator.twilio_concurrency_limit = 1

    with held_in_flight(emulator, 1):
        other = requests.get(f"{emulator.base_url}/v1/Events", auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10)

    assert other.status_code == 200
    assert in_flight_header(other) == 1
    assert emulator.twilio_peak_in_flight(OTHER_ACCOUNT) == 1
    assert emulator.twilio_concurrency_refusals(DEFAULT_ACCOUNT_SID) == 0


def test_without_a_limit_every_answer_reports_the_requests_in_flight_including_itself(emulator):
    assert emulator.twilio_concurrency_limit is None

    with held_in_flight(emulator, 3) as held:
        fourth = get_events(emulator)

    assert fourth.status_code == 200
    assert in_flight_header(fourth) == 4
    assert sorted(in_flight_header(answer.result()) for answer in held) == [1, 2, 3]
    assert emulator.twilio_peak_in_flight(DEFAULT_ACCOUNT_SID) == 4
    assert emulator.twilio_concurrency_refusals(DEFAULT_ACCOUNT_SID) == 0


def test_the_peak_counts_the_most_requests_in_flight_at_once_refused_ones_included(emulator):
    emulator.twilio_concurrency_limit = 2

    with held_in_flight(emulator, 2):
        get_events(emulator)

    assert emulator.twilio_peak_in_flight() == 3


def test_refused_credentials_count_against_no_account(emulator):
    emulator.twilio_concurrency_limit = 1

    with held_in_flight(emulator, 1):
        unknown = requests.get(f"{emulator.base_url}/v1/Events", auth=(DEFAULT_ACCOUNT_SID, "wrong"), timeout=10)

    assert unknown.status_code == 401
    assert CONCURRENT_REQUESTS_HEADER not in unknown.headers


def test_telnyx_answers_carry_no_twilio_header(emulator):
    emulator.twilio_concurrency_limit = 1

    with held_in_flight(emulator, 1):
        telnyx = get_audit_events(emulator)

    assert telnyx.status_code == 200
    assert CONCURRENT_REQUESTS_HEADER not in telnyx.headers


def test_a_limit_below_one_is_refused(emulator):
    with pytest.raises(ValueError, match="at least 1"):
        emulator.twilio_concurrency_limit = 0
