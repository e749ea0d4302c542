"""The emulator's switch `telnyx_rate_limit`: (requests, seconds) per API key in a fixed window,
reported in Telnyx's `x-ratelimit-*` headers; over it, 429 with error 10011. Off, no such header
is sent (an API that omits them). Windows end on the emulator's clock, which the tests move on."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.server import DEFAULT_TELNYX_API_KEY
from tests.telnyx_helpers import get_audit_events

OTHER_KEY = "KEYanother-telnyx-api-key"
HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def rate_headers(answer) -> dict[str, str]:
    return {name: answer.headers[name] for name in HEADERS if name in answer.headers}


def test_without_a_limit_answers_carry_no_rate_limit_headers(emulator):
    assert emulator.telnyx_rate_limit is None

    answer = get_audit_events(emulator)

    assert answer.status_code == 200
    assert rate_headers(answer) == {}


def test_every_answer_reports_the_limit_and_what_is_left_of_the_window(emulator):
    emulator.telnyx_rate_limit = (3, 60)

    answers = [get_audit_events(emulator) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["x-ratelimit-limit"] for answer in answers] == ["3", "3", "3"]
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["2", "1", "0"]
    assert all(1 <= int(answer.headers["x-ratelimit-reset"]) <= 60 for answer in answers)


def test_a_request_over_the_limit_is_refused_with_429_and_error_10011(emulator):
    emulator.telnyx_rate_limit = (2, 60)

    answers = [get_audit_events(emulator) for _ in range(3)]

    refused = answers[-1]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert refused.json() == {
        "errors": [
            {
                "code": "10011",
                "title": "Too many requests",
                "detail": "You have exceeded the maximum number of allowed requests.",
            }
        ]
    }
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["x-ratelimit-reset"]) <= 60
    assert "Retry-After" not in refused.headers
    assert emulator.telnyx_rate_limit_refusals(DEFAULT_TELNYX_API_KEY) == 1


def test_the_other_reading_sends_retry_after_until_the_window_resets(emulator):
    emulator.telnyx_rate_limit = (1, 60)
    emulator.limits_send_retry_after = True
    get_audit_events(emulator)

    emulator.now += dt.timedelta(seconds=50)
    refused = get_audit_events(emulator)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == refused.headers["x-ratelimit-reset"]
    assert int(refused.headers["Retry-After"]) <= 10


def test_reset_counts_down_to_a_new_window_with_the_whole_limit(emulator):
    emulator.telnyx_rate_limit = (1, 60)
    get_audit_events(emulator)

    emulator.now += dt.timedelta(seconds=45)
    later = get_audit_events(emulator)
    emulator.now += dt.timedelta(seconds=15)
    next_window = get_audit_events(emulator)

    assert later.status_code == 429
    assert int(later.headers["x-ratelimit-reset"]) <= 15
    assert next_window.status_code == 200
    assert rate_headers(next_window) == {
        "x-ratelimit-limit": "1",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "60",
    }


def test_each_api_key_has_its_own_window(emulator):
    emulator.telnyx_api_keys[OTHER_KEY] = "org-emulator"
    emulator.telnyx_rate_limit = (1, 60)

    first = get_audit_events(emulator)
    other = get_audit_events(emulator, api_key=OTHER_KEY)

    assert (first.status_code, other.status_code) == (200, 200)
    assert other.headers["x-ratelimit-remaining"] == "0"
    assert emulator.telnyx_rate_limit_refusals(OTHER_KEY) == 0


def test_an_unknown_key_is_refused_for_its_credential_not_counted(emulator):
    emulator.telnyx_rate_limit = (1, 60)

    unknown = get_audit_events(emulator, api_key="KEYunknown")
    known = get_audit_events(emulator)

    assert unknown.status_code == 401
    assert rate_headers(unknown) == {}
    assert known.status_code == 200


def test_a_limit_must_allow_a_request_in_a_positive_window(emulator):
    with pytest.raises(ValueError, match="positive window"):
        emulator.telnyx_rate_limit = (5, 0)
