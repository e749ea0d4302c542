"""The emulator's Api v2010 Accounts as Twilio's spec has them: the caller and its subaccounts,
the Status filter, PageSize up to 1000, a relative next_page_uri, and `auth_token` filled or
not under each reading (list, fetch, API key)."""

from __future__ import annotations

import typing as t

import pytest
import requests

from emulator import Emulator
from emulator.server import DEFAULT_API_KEY_SECRET, DEFAULT_API_KEY_SID, DEFAULT_AUTH_TOKEN
from tests.subaccount_helpers import PARENT_SID, add_subaccounts, small_sizes, subaccount_sid, subaccount_token

FIELDS = {
    "auth_token",
    "date_created",
    "date_updated",
    "friendly_name",
    "owner_account_sid",
    "sid",
    "status",
    "subresource_uris",
    "type",
    "uri",
}
PAGE_FIELDS = {
    "accounts",
    "end",
    "first_page_uri",
    "next_page_uri",
    "page",
    "page_size",
    "previous_page_uri",
    "start",
    "uri",
}
PARENT = (PARENT_SID, DEFAULT_AUTH_TOKEN)
API_KEY = (DEFAULT_API_KEY_SID, DEFAULT_API_KEY_SECRET)


@pytest.fixture
def emulator() -> t.Iterator[Emulator]:
    with Emulator(**small_sizes()) as running:
        add_subaccounts(running, ["active", "active", "suspended", "closed"])
        yield running


def get(emulator: Emulator, uri: str, auth: tuple[str, str] = PARENT, **params: t.Any) -> requests.Response:
    return requests.get(f"{emulator.base_url}{uri}", auth=auth, params=params, timeout=10)


def list_all(emulator: Emulator, auth: tuple[str, str] = PARENT, **params: t.Any) -> list[dict[str, t.Any]]:
    items: list[dict[str, t.Any]] = []
    answer = get(emulator, "/2010-04-01/Accounts.json", auth, **params).json()
    while True:
        items += answer["accounts"]
        if not answer["next_page_uri"]:
            return items
        assert answer["next_page_uri"].startswith("/2010-04-01/Accounts.json?"), "relative to api.twilio.com"
        answer = get(emulator, answer["next_page_uri"], auth).json()


def test_the_list_holds_the_caller_and_its_subaccounts_with_the_spec_fields(emulator):
    answer = get(emulator, "/2010-04-01/Accounts.json").json()

    assert set(answer) == PAGE_FIELDS
    assert len(answer["accounts"]) == 5
    assert all(set(item) == FIELDS for item in answer["accounts"])
    assert {item["owner_account_sid"] for item in answer["accounts"]} == {PARENT_SID}
    assert {item["status"] for item in answer["accounts"]} == {"active", "suspended", "closed"}


def test_pages_follow_a_relative_next_page_uri_and_status_filters(emulator):
    assert len(list_all(emulator, PageSize=2)) == 5
    assert {item["status"] for item in list_all(emulator, Status="suspended", PageSize=1)} == {"suspended"}
    assert get(emulator, "/2010-04-01/Accounts.json", PageSize=1001).status_code == 400
    assert get(emulator, "/2010-04-01/Accounts.json", Status="gone").status_code == 400


def test_a_subaccount_sees_only_itself(emulator):
    sid = subaccount_sid(1)

    items = list_all(emulator, (sid, subaccount_token(1)))

    assert [item["sid"] for item in items] == [sid]
    assert get(emulator, f"/2010-04-01/Accounts/{PARENT_SID}.json", (sid, subaccount_token(1))).status_code == 404


@pytest.mark.parametrize("filled_by", ["list", "fetch"])
def test_where_the_auth_token_is_filled(emulator, filled_by):
    emulator.accounts.auth_token_filled_by = filled_by
    sid = subaccount_sid(1)

    listed = {item["sid"]: item["auth_token"] for item in list_all(emulator)}
    fetched = get(emulator, f"/2010-04-01/Accounts/{sid}.json").json()["auth_token"]
    by_key = get(emulator, f"/2010-04-01/Accounts/{sid}.json", API_KEY).json()["auth_token"]
    listed_by_key = {item["auth_token"] for item in list_all(emulator, API_KEY)}

    assert bool(listed[sid]) == (filled_by == "list")
    assert fetched == subaccount_token(1)
    assert by_key == "" and listed_by_key == {""}, "an API key gets it empty"


def test_a_withheld_token_and_an_inactive_account(emulator):
    sid = subaccount_sid(1)
    emulator.accounts.withhold_auth_token(sid)
    suspended = next(item["sid"] for item in list_all(emulator, Status="suspended"))

    assert get(emulator, f"/2010-04-01/Accounts/{sid}.json").json()["auth_token"] == ""
    refused = get(emulator, "/v1/Events", (suspended, subaccount_token(3)))
    assert (refused.status_code, refused.json()["code"]) == (401, 20005)
