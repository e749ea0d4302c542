"""Paginators, in process: Twilio's next_page_url stays on the configured host and never loops;
Telnyx's page numbers must be the ones asked for."""

from __future__ import annotations

import re
import typing as t

import orjson
import pytest
import requests

from tap_events.errors import APIRequestError
from tap_events.pagination import NextPageUrlPaginator, TelnyxPaginator, origin

BASE = "http://127.0.0.1:8080"


def _page(url: str, body: dict[str, t.Any]) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = orjson.dumps(body)
    response.request = requests.Request("GET", url).prepare()
    return response


def _twilio(next_page_url: str | None, url: str = f"{BASE}/v1/Events") -> requests.Response:
    return _page(url, {"events": [], "meta": {"next_page_url": next_page_url}})


def _paginator() -> NextPageUrlPaginator:
    return NextPageUrlPaginator(origin(BASE), lambda: "twilio_monitor_events: GET /v1/Events")


def test_next_page_url_is_followed_verbatim_on_the_configured_host():
    url = f"{BASE}/v1/Events?PageSize=50&Page=1&PageToken=PAabc"

    assert _paginator().get_next(_twilio(url)) == url
    assert _paginator().get_next(_twilio(None)) is None


def test_next_page_url_on_another_host_is_refused():
    with pytest.raises(
        APIRequestError, match=re.escape("refusing to follow next_page_url to https://evil.example:443")
    ):
        _paginator().get_next(_twilio("https://evil.example/v1/Events?Page=1"))


def test_a_next_page_url_back_to_a_page_already_read_is_a_cycle():
    paginator = _paginator()
    second, third = f"{BASE}/v1/Events?Page=1", f"{BASE}/v1/Events?Page=2"
    assert paginator.get_next(_twilio(second)) == second
    assert paginator.get_next(_twilio(third, url=second)) == third

    with pytest.raises(APIRequestError, match="pagination cycle"):
        paginator.get_next(_twilio(second, url=third))


def test_telnyx_pages_until_total_pages():
    paginator = TelnyxPaginator(lambda: "telnyx_audit_events: GET /v2/audit_events")

    assert paginator.has_more(_page(BASE, {"data": [], "meta": {"page_number": 1, "total_pages": 2}}))
    paginator.advance(_page(BASE, {"data": [], "meta": {"page_number": 1, "total_pages": 2}}))
    assert not paginator.has_more(_page(BASE, {"data": [], "meta": {"page_number": 2, "total_pages": 2}}))


def test_telnyx_page_other_than_the_one_asked_for_is_refused():
    paginator = TelnyxPaginator(lambda: "telnyx_audit_events: GET /v2/audit_events")

    with pytest.raises(APIRequestError, match="asked for page 1 and got page 3"):
        paginator.has_more(_page(BASE, {"data": [], "meta": {"page_number": 3, "total_pages": 5}}))
