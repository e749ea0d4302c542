"""A page's records are handed to the reader and held nowhere else: the worker that read the page
keeps its response until it asks for the next page, and must not keep the records alive with it.
What paging decides from the page afterwards (each record's replication value) is kept."""

from __future__ import annotations

import gc

import orjson
import requests

from tap_events.responses import hand_out_records, page_values, response_body

PAGE = {
    "events": [
        {"sid": "AE1", "event_date": "2026-11-28T10:00:02Z"},
        {"sid": "AE2"},
        {"sid": "AE3", "event_date": "2026-11-28T10:00:00Z"},
    ],
    "meta": {"next_page_url": None},
}


def answer(body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = orjson.dumps(body)
    return response


def test_records_taken_from_a_page_are_referred_to_by_the_taker_alone():
    response = answer(PAGE)
    response_body(response)  # parsed while the response was validated
    records = hand_out_records(response, "events", "event_date")

    taken = list(records)

    assert [record["sid"] for record in taken] == ["AE1", "AE2", "AE3"]
    assert all(gc.get_referrers(record) == [taken] for record in taken)
    assert response_body(response)["events"] == []
    assert response_body(response)["meta"] == {"next_page_url": None}


def test_each_records_replication_value_stays_with_the_response_for_paging():
    response = answer(PAGE)
    records = hand_out_records(response, "events", "event_date")
    list(records)

    assert page_values(response) == ["2026-11-28T10:00:02Z", None, "2026-11-28T10:00:00Z"]


def test_a_stream_without_a_replication_key_keeps_the_count_of_its_records():
    response = answer(PAGE)
    list(hand_out_records(response, "events", None))

    assert page_values(response) == [None, None, None]
