"""HTTP (http_client.py), in process: which failures are retried and how they are counted, and error
messages that name stream, request, status and the API's error code, never a credential."""

from __future__ import annotations

import orjson
import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tap_events.errors import APIRequestError
from tap_events.http_client import error_message, request_line, retry_cause
from tap_events.tap import TapEvents

URL = "http://127.0.0.1:8080/v1/Events?PageSize=50"


def _answer(status: int, body: bytes = b"{}") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = URL
    return response


def _events_stream():
    config = {"twilio_account_sid": DEFAULT_ACCOUNT_SID, "twilio_auth_token": DEFAULT_AUTH_TOKEN}
    return TapEvents(config=config).streams["twilio_monitor_events"]


@pytest.mark.parametrize(
    ("exception", "cause"),
    [
        (requests.exceptions.ReadTimeout(), "timeout"),
        (requests.exceptions.HTTPError(response=_answer(429)), "429"),
        (requests.exceptions.HTTPError(response=_answer(408)), "timeout"),
        (requests.exceptions.HTTPError(response=_answer(503)), "5xx"),
        (requests.exceptions.HTTPError(response=_answer(200)), "truncated_body"),
        (requests.exceptions.ChunkedEncodingError(), "truncated_body"),
        (requests.exceptions.ConnectionError(), "connection"),
    ],
)
def test_a_retry_is_counted_by_its_cause(exception, cause):
    assert retry_cause(exception) == cause


def test_a_request_is_named_by_method_host_path_and_query():
    assert request_line(URL) == f"GET {URL}"
    assert request_line("https://monitor.twilio.com/v1/Alerts") == "GET https://monitor.twilio.com/v1/Alerts"


def test_an_error_message_names_stream_request_status_and_api_error_code():
    message = error_message("s", "Twilio", "check the token", "GET http://h/p", 400, "20001", "Invalid")
    assert message == "s: request failed: GET http://h/p answered HTTP 400 (Twilio error 20001: Invalid)"
    assert error_message("s", "Telnyx", "check the key", "GET http://h/p", 401, None, None) == (
        "s: authentication failed for Telnyx, check the key: GET http://h/p answered HTTP 401 (no Telnyx error code)"
    )
    assert "unexpected redirect, not followed" in error_message("s", "Twilio", "", "GET http://h/p", 302, None, None)


def test_transient_answers_are_retried_and_others_end_the_partition():
    stream = _events_stream()

    for status in (408, 429, 500, 503, 599):
        with pytest.raises(RetriableAPIError):
            stream.validate_response(_answer(status))
    with pytest.raises(RetriableAPIError, match="not JSON"):
        stream.validate_response(_answer(200, b"<html>maintenance</html>"))
    with pytest.raises(RetriableAPIError, match="without a list of records under 'events'"):
        stream.validate_response(_answer(200, orjson.dumps({"meta": {}})))
    with pytest.raises(APIRequestError, match="authentication failed for Twilio") as refused:
        stream.validate_response(_answer(401, orjson.dumps({"code": 20003, "message": "Authenticate"})))
    assert refused.value.status == 401
    assert DEFAULT_AUTH_TOKEN not in str(refused.value)
    stream.validate_response(_answer(200, orjson.dumps({"events": [], "meta": {}})))
