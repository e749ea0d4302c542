"""The emulated GET /v2/audit_events behaves as Telnyx documents it (checked with requests)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

import pytest
import requests

from emulator.server import DEFAULT_TELNYX_API_KEY
from tests.common import parse
from tests.telnyx_helpers import events, get_audit_events

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def _ids(response) -> list[str]:
    return [event["id"] for event in response.json()["data"]]


def test_meta_has_total_pages_total_results_page_number_and_page_size(emulator):
    total = len(events(emulator))

    response = get_audit_events(emulator, {"page[number]": 2, "page[size]": 7})

    assert response.status_code == 200
    assert response.json()["meta"] == {
        "total_pages": math.ceil(total / 7),
        "total_results": total,
        "page_number": 2,
        "page_size": 7,
    }
    assert len(response.json()["data"]) == 7


def test_default_is_page_1_of_20_newest_first(emulator):
    response = get_audit_events(emulator)

    assert response.json()["meta"]["page_number"] == 1
    assert response.json()["meta"]["page_size"] == 20
    assert _ids(response) == [event["id"] for event in reversed(events(emulator))][:20]


def test_sort_asc_is_oldest_first_and_desc_newest_first(emulator):
    every = [event["id"] for event in events(emulator)]

    ascending = get_audit_events(emulator, {"sort": "asc", "page[size]": 250})
    descending = get_audit_events(emulator, {"sort": "desc", "page[size]": 250})

    assert _ids(ascending) == every
    assert _ids(descending) == every[::-1]


def test_created_after_and_created_before_are_exclusive(emulator):
    every = events(emulator)
    low, high = every[40]["created_at"], every[120]["created_at"]
    params = {"filter[created_after]": low, "filter[created_before]": high, "sort": "asc"}

    response = get_audit_events(emulator, {**params, "page[size]": 250})

    expected = [e["id"] for e in every if parse(low) < parse(e["created_at"]) < parse(high)]
    assert _ids(response) == expected
    assert every[40]["id"] not in expected
    assert every[120]["id"] not in expected


def test_a_page_past_the_last_is_empty_with_the_same_totals(emulator):
    total = len(events(emulator))
    last = math.ceil(total / 50)

    response = get_audit_events(emulator, {"page[number]": last + 1, "page[size]": 50})

    assert response.json() == {
        "data": [],
        "meta": {
            "total_pages": last,
            "total_results": total,
            "page_number": last + 1,
            "page_size": 50,
        },
    }


def test_events_that_share_an_instant_exist_and_come_in_id_order(emulator):
    every = events(emulator)
    shared = [
        (before, after)
        for before, after in itertools.pairwise(every)
        if parse(before["created_at"]) == parse(after["created_at"])
    ]

    assert shared, "bursts of events at one instant are part of the data set"
    assert all(before["id"] < after["id"] for before, after in shared)


def test_created_at_has_milliseconds_or_no_fraction_on_a_whole_second(emulator):
    values = [event["created_at"] for event in events(emulator)]

    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", v) for v in values)
    assert any("." in value for value in values)
    assert any("." not in value for value in values)


def test_changes_hold_any_json_value(emulator):
    values = [
        change[side] for event in events(emulator) for change in event["changes"] or [] for side in ("from", "to")
    ]

    kinds = {type(value).__name__ for value in values}
    assert {"str", "int", "float", "bool", "dict", "list", "NoneType"} <= kinds
    assert any(event["changes"] is None for event in events(emulator))
    assert any(event["alternate_resource_id"] is None for event in events(emulator))


def test_page_size_over_250_is_refused_with_telnyx_error_json(emulator):
    response = get_audit_events(emulator, {"page[size]": 251})

    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {
                "code": "10015",
                "title": "Bad Request",
                "detail": "page[size] must be between 1 and 250, got 251",
            }
        ]
    }


def test_page_number_zero_is_refused(emulator):
    response = get_audit_events(emulator, {"page[number]": 0})

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "10015"


@pytest.mark.parametrize(
    "params",
    [
        {"filter[created_after]": "yesterday"},
        {"filter[created_before]": "2026-13-01T00:00:00Z"},
        {"page[size]": "ten"},
        {"sort": "newest"},
    ],
    ids=["created_after", "created_before", "page size", "sort"],
)
def test_a_malformed_value_is_refused_with_400(emulator, params):
    response = get_audit_events(emulator, params)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["title"]) == ("10015", "Bad Request")
    assert next(iter(params)) in error["detail"]


@pytest.mark.parametrize("api_key", [None, "KEYnot-a-real-key"], ids=["missing", "unknown"])
def test_a_missing_or_unknown_api_key_answers_401_with_telnyx_error_json(emulator, api_key):
    response = get_audit_events(emulator, api_key=api_key)

    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "code": "10009",
                "title": "Authentication failed",
                "detail": "The API key you provided is not valid.",
            }
        ]
    }


def test_a_late_event_becomes_visible_after_the_given_number_of_requests(emulator):
    old = parse(events(emulator)[0]["created_at"]) - dt.timedelta(minutes=1)
    [late] = emulator.telnyx.add_events([old], after_requests=2)
    params = {"sort": "asc", "page[size]": 1}

    first = get_audit_events(emulator, params)
    second = get_audit_events(emulator, params)
    third = get_audit_events(emulator, params)

    assert _ids(first) != [late["id"]]
    assert _ids(second) != [late["id"]]
    assert _ids(third) == [late["id"]]
    assert third.json()["meta"]["total_results"] == first.json()["meta"]["total_results"] + 1


def test_an_unknown_v2_path_answers_404_with_telnyx_error_json(emulator):
    response = requests.get(
        f"{emulator.base_url}/v2/no_such_resource",
        headers={"Authorization": f"Bearer {DEFAULT_TELNYX_API_KEY}"},
        timeout=10,
    )

    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert set(error) == {"code", "title", "detail"}


def _created_after(emulator, days: int) -> dict[str, str]:
    return {"filter[created_after]": (emulator.now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_with_a_retention_an_older_created_after_is_trimmed_silently(emulator):
    emulator.telnyx.retention = dt.timedelta(days=30)
    emulator.telnyx.add_events([emulator.now - dt.timedelta(days=31)])

    response = get_audit_events(emulator, {**_created_after(emulator, 40), "page[size]": 250})

    assert response.status_code == 200
    assert all(parse(event["created_at"]) > emulator.now - dt.timedelta(days=30) for event in response.json()["data"])


def test_with_a_retention_an_older_created_after_is_refused_when_switched_to_refuse(emulator):
    emulator.telnyx.retention = dt.timedelta(days=30)
    emulator.telnyx.retention_answer = "refuse"

    refused, kept = (
        get_audit_events(emulator, _created_after(emulator, 31)),
        get_audit_events(emulator, _created_after(emulator, 29)),
    )

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "10015"
    assert kept.status_code == 200
