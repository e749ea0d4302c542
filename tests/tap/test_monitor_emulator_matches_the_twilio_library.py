"""The official twilio helper library pages through the emulator: its Monitor pages are genuine."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.common import iso
from tests.monitor_helpers import alerts_of, events_of, get_alerts, get_events


def _client(emulator) -> Client:
    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    client.monitor.base_url = emulator.base_url
    return client


def test_twilio_library_lists_every_event_newest_first(emulator):
    events = _client(emulator).monitor.v1.events.list(page_size=37)

    expected = sorted(events_of(emulator), key=lambda e: (e["event_date"], e["sid"]), reverse=True)
    assert [event.sid for event in events] == [event["sid"] for event in expected]
    assert all(isinstance(event.event_date, dt.datetime) for event in events)


def test_twilio_library_lists_alerts_in_a_date_range(emulator):
    alerts = alerts_of(emulator)
    start = dt.datetime.fromisoformat(alerts[len(alerts) // 2]["date_created"].replace("Z", "+00:00"))

    listed = _client(emulator).monitor.v1.alerts.list(start_date=start, page_size=20)

    assert {alert.sid for alert in listed} == {
        a["sid"] for a in alerts if a["date_created"] >= alerts[len(alerts) // 2]["date_created"]
    }


def test_wrong_credentials_get_twilio_error_20003(emulator):
    client = Client(DEFAULT_ACCOUNT_SID, "wrong-token")
    client.monitor.base_url = emulator.base_url

    with pytest.raises(TwilioException) as raised:
        client.monitor.v1.events.list(limit=1)

    response = raised.value.args[1]
    assert response.status_code == 401
    assert response.text and '"code":20003' in response.text


def test_two_filters_in_one_request_are_refused_with_400(emulator):
    response = get_events(emulator, ActorSid="US" + "0" * 32, EventType="account.updated")

    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "more_info", "status"}


def test_one_filter_with_a_date_range_is_allowed(emulator):
    event = next(iter(events_of(emulator)))
    response = get_events(
        emulator, EventType=event["event_type"], StartDate=event["event_date"], EndDate=event["event_date"]
    )

    assert response.status_code == 200
    assert event["sid"] in {e["sid"] for e in response.json()["events"]}
    assert all(e["event_type"] == event["event_type"] for e in response.json()["events"])


def test_alert_queries_older_than_30_days_are_refused(emulator):
    too_old = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
    response = get_alerts(emulator, StartDate=too_old)

    assert response.status_code == 400


def test_previous_page_url_leads_back_to_the_page_before(emulator):
    first = _client(emulator).monitor.v1.events.page(page_size=25)
    second = first.next_page()
    third = second.next_page()

    back = third.previous_page()

    assert [event.sid for event in back] == [event.sid for event in second]
    assert [event.sid for event in back.previous_page()] == [event.sid for event in first]


@pytest.mark.parametrize("page", ["abc", "-1", "1.5"])
def test_a_page_that_is_not_a_whole_number_is_refused_with_400(emulator, page):
    response = get_events(emulator, Page=page)

    assert response.status_code == 400
    assert response.json()["code"] == 20001


def _events_since(emulator, days: int) -> requests.Response:
    start = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    return get_events(emulator, StartDate=start, PageSize="1000")


def test_events_older_than_the_retention_are_trimmed_silently_by_default(emulator):
    response = _events_since(emulator, days=31)

    assert response.status_code == 200
    assert response.json()["events"]


def test_events_older_than_the_retention_are_refused_when_switched_to_refuse(emulator):
    emulator.monitor.retention_answer = "refuse"

    refused, kept = _events_since(emulator, days=31), _events_since(emulator, days=29)

    assert refused.status_code == 400
    assert set(refused.json()) == {"code", "message", "more_info", "status"}
    assert kept.status_code == 200


@pytest.mark.parametrize(
    "token", ["garbage", "PAeyJhIjogMSwgImIiOiAyfQ", "PBWyJ4IiwgInkiLCAwXQ"], ids=["text", "object", "size-0"]
)
def test_a_page_token_that_is_no_cursor_is_refused_with_400(emulator, token):
    response = get_events(emulator, PageToken=token)

    assert response.status_code == 400
    assert response.json()["code"] == 20001
