"""The emulator's TaskRouter behaves as Twilio documents it (checked with plain requests)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import requests

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.common import parse
from tests.taskrouter_helpers import get_events, oldest_start, sids, workspace_sids

LONG_AGO = "2020-01-01T00:00:00Z"


def _first(emulator):
    sid = workspace_sids(emulator)[0]
    return sid, emulator.taskrouter.events_of(sid)


def test_without_start_date_only_the_last_15_minutes_are_returned(emulator):
    sid, events = _first(emulator)
    cutoff = emulator.now - dt.timedelta(minutes=15)

    response = get_events(emulator, sid, PageSize=1000)

    assert response.status_code == 200
    expected = {event["sid"] for event in events if parse(event["event_date"]) >= cutoff}
    assert expected, "the data set has events in the last 15 minutes"
    assert len(expected) < len(events)
    assert sids(response.json()["events"]) == expected


def test_minutes_sets_how_far_back_a_request_without_start_date_reads(emulator):
    sid, events = _first(emulator)
    cutoff = emulator.now - dt.timedelta(minutes=90)

    response = get_events(emulator, sid, Minutes=90, PageSize=1000)

    expected = {event["sid"] for event in events if parse(event["event_date"]) >= cutoff}
    assert len(expected) > len(get_events(emulator, sid, PageSize=1000).json()["events"])
    assert sids(response.json()["events"]) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("StartDate", "2026-01-02T03:04:05.000Z"),
        ("StartDate", "2026-01-02T03:04:05+00:00"),
        ("StartDate", "2026-01-02"),
        ("EndDate", "2026-01-02T03:04:05.5Z"),
        ("EndDate", "2026-01-02 03:04:05Z"),
        ("EndDate", "2026-01-02T03:04:05z"),
        ("EndDate", "2026-01-02t03:04:05Z"),
    ],
)
def test_dates_not_in_the_strict_format_are_a_400_with_twilio_error_json(emulator, name, value):
    sid, _ = _first(emulator)

    response = get_events(emulator, sid, **{name: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 20001
    assert body["status"] == 400
    assert value in body["message"]


def test_strict_dates_select_events_with_an_inclusive_end_to_the_second(emulator):
    sid, events = _first(emulator)
    middle = events[len(events) // 2]
    second = middle["event_date"]

    response = get_events(emulator, sid, StartDate=second, EndDate=second, PageSize=1000)

    assert response.status_code == 200
    assert sids(response.json()["events"]) == {event["sid"] for event in events if event["event_date"] == second}


def test_events_come_newest_first_ordered_by_event_date_ms_within_a_second(emulator):
    sid, events = _first(emulator)
    bursts = [second for second, count in Counter(e["event_date"] for e in events).items() if count > 1]
    assert bursts, "the data set has several events in one second"
    served = []
    url: str | None = f"{emulator.base_url}/v1/Workspaces/{sid}/Events?StartDate={oldest_start(emulator)}&PageSize=7"
    while url:
        body = requests.get(url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10).json()
        served += body["events"]
        url = body["meta"]["next_page_url"]

    milliseconds = [event["event_date_ms"] for event in served]
    assert milliseconds == sorted(milliseconds, reverse=True)
    assert len(set(milliseconds)) == len(milliseconds)
    assert [event["sid"] for event in served] == [
        event["sid"] for event in sorted(events, key=lambda e: -e["event_date_ms"])
    ]


def test_next_page_url_carries_a_cursor_and_the_meta_of_the_spec(emulator):
    sid, _ = _first(emulator)

    first = get_events(emulator, sid, StartDate=oldest_start(emulator), PageSize=5).json()

    meta = first["meta"]
    assert set(meta) == {"first_page_url", "key", "next_page_url", "page", "page_size", "previous_page_url", "url"}
    assert meta["key"] == "events"
    assert (meta["page"], meta["page_size"], meta["previous_page_url"]) == (0, 5, None)
    assert "PageToken=" in meta["next_page_url"]
    assert "StartDate=" + oldest_start(emulator).replace(":", "%3A") in meta["next_page_url"]
    second = requests.get(meta["next_page_url"], auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10).json()
    assert second["meta"]["page"] == 1
    assert not sids(first["events"]) & sids(second["events"])


def test_page_without_page_token_is_ignored_and_returns_the_first_page_again(emulator):
    sid, _ = _first(emulator)

    first = get_events(emulator, sid, StartDate=oldest_start(emulator), PageSize=5).json()
    page_two = get_events(emulator, sid, StartDate=oldest_start(emulator), PageSize=5, Page=2).json()

    assert [event["sid"] for event in page_two["events"]] == [event["sid"] for event in first["events"]]


def test_a_start_date_more_than_30_days_back_is_refused_with_400(emulator):
    sid, _ = _first(emulator)

    response = get_events(emulator, sid, StartDate=LONG_AGO)

    assert response.status_code == 400
    assert response.json()["code"] == 20001


def test_in_the_trim_reading_events_older_than_30_days_are_not_kept(emulator):
    emulator.taskrouter.retention_answer = "trim"
    sid, _ = _first(emulator)
    [old] = emulator.taskrouter.add_events(sid, [emulator.now - dt.timedelta(days=31)])
    [kept] = emulator.taskrouter.add_events(sid, [emulator.now - dt.timedelta(days=29, hours=23)])

    served = sids(get_events(emulator, sid, StartDate=LONG_AGO, PageSize=1000).json()["events"])

    assert kept["sid"] in served
    assert old["sid"] not in served


def test_a_deleted_workspace_answers_404_with_twilio_error_20404(emulator):
    sid, _ = _first(emulator)
    emulator.taskrouter.delete(sid)

    response = get_events(emulator, sid, StartDate=oldest_start(emulator))

    assert response.status_code == 404
    assert response.json()["code"] == 20404
    assert sid not in workspace_sids(emulator)


def test_workspaces_lists_every_workspace_of_the_account(emulator):
    response = requests.get(
        f"{emulator.base_url}/v1/Workspaces",
        params={"PageSize": 2},
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
        timeout=10,
    )

    body = response.json()
    assert body["meta"]["key"] == "workspaces"
    listed = sids(body["workspaces"])
    next_page = requests.get(body["meta"]["next_page_url"], auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10)
    listed |= sids(next_page.json()["workspaces"])
    assert listed == set(workspace_sids(emulator))
    assert all(not key.startswith("_") for key in body["workspaces"][0])


def test_wrong_credentials_are_a_401(emulator):
    sid, _ = _first(emulator)

    response = requests.get(
        f"{emulator.base_url}/v1/Workspaces/{sid}/Events", auth=(DEFAULT_ACCOUNT_SID, "wrong"), timeout=10
    )

    assert response.status_code == 401
    assert response.json()["code"] == 20003


def test_event_type_filter_is_echoed_in_meta_and_selects_that_type(emulator):
    sid, events = _first(emulator)
    event_type = events[0]["event_type"]

    body = get_events(emulator, sid, StartDate=oldest_start(emulator), EventType=event_type, PageSize=1000).json()

    assert sids(body["events"]) == {event["sid"] for event in events if event["event_type"] == event_type}
    assert f"EventType={event_type}" in body["meta"]["url"]
