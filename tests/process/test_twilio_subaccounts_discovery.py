"""`twilio_subaccounts`: every active subaccount of the parent found at run time, its credentials
asked of Twilio with the parent's auth token, each read like a configured account; suspended and
closed ones skipped and named, one whose credentials cannot be had named while the others are
read (non-zero exit); a parent with only an API key refused before any request."""

from __future__ import annotations

import typing as t

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_API_KEY_SECRET, DEFAULT_API_KEY_SID
from tap_events.shards import shard_of
from tests.subaccount_helpers import (
    PARENT_SID,
    accounts_read,
    add_subaccounts,
    keys_of,
    parent_config,
    small_sizes,
    state_accounts,
    subaccount_sid,
    subaccount_token,
)
from tests.tap_runner import TapRun, run_tap_process

FETCH = "/2010-04-01/Accounts/"
LIST = "/2010-04-01/Accounts.json"


@pytest.fixture
def emulator() -> t.Iterator[Emulator]:
    with Emulator(**small_sizes()) as running:
        yield running


def requests_to(emulator: Emulator, path: str) -> list[str]:
    return [
        seen.url for seen in emulator.seen if seen.url.split("?")[0].split(str(emulator.port), 1)[1].startswith(path)
    ]


def discovery_entries(run: TapRun) -> dict[str, str | None]:
    """partition -> why it was skipped, for the run report's `twilio_subaccounts` entries."""
    return {
        entry["partition"]: entry["skipped"]
        for entry in run.run_report["partitions"]
        if entry["stream"] == "twilio_subaccounts"
    }


@pytest.mark.parametrize("filled_by", ["list", "fetch"])
def test_every_active_subaccount_is_read_as_its_own_account_partition(emulator, filled_by):
    emulator.accounts.auth_token_filled_by = filled_by
    subaccounts = add_subaccounts(emulator, ["active", "active", "active"])
    configured = run_tap_process(
        parent_config(
            emulator,
            twilio_subaccounts=None,
            twilio_accounts=[
                {"account_sid": sid, "auth_token": subaccount_token(n)} for n, sid in enumerate(subaccounts, 1)
            ],
        )
    )
    emulator.seen.clear()

    run = run_tap_process(parent_config(emulator))

    assert run.returncode == 0, run.stderr
    assert accounts_read(run) == {PARENT_SID, *subaccounts}
    assert state_accounts(run.final_state) == {PARENT_SID, *subaccounts}
    for account in (PARENT_SID, *subaccounts):
        assert keys_of(run, account) == keys_of(configured, account), account
    # The token came from the list's answer, or from fetching each subaccount when the list left it empty.
    fetched = requests_to(emulator, FETCH)
    assert len(fetched) == (len(subaccounts) if filled_by == "fetch" else 0)
    assert len(requests_to(emulator, LIST)) == 1


def test_the_accounts_list_is_followed_page_by_page(emulator):
    emulator.accounts.page_size_cap = 2
    subaccounts = add_subaccounts(emulator, ["active"] * 5)

    run = run_tap_process(parent_config(emulator))

    assert run.returncode == 0, run.stderr
    assert accounts_read(run) == {PARENT_SID, *subaccounts}
    assert len(requests_to(emulator, LIST)) == 3  # six accounts (the parent listed too), two per page


def test_the_parent_with_an_api_key_reads_subaccounts_through_its_auth_token(emulator):
    # The reading where an API key gets every auth_token empty: discovery uses the auth token only.
    emulator.accounts.auth_token_filled_by = "fetch"
    subaccounts = add_subaccounts(emulator, ["active", "active"])
    config = parent_config(
        emulator, twilio_api_key_sid=DEFAULT_API_KEY_SID, twilio_api_key_secret=DEFAULT_API_KEY_SECRET
    )

    run = run_tap_process(config)

    assert run.returncode == 0, run.stderr
    assert accounts_read(run) == {PARENT_SID, *subaccounts}


def test_suspended_and_closed_subaccounts_are_skipped_and_named(emulator):
    active, suspended, closed = add_subaccounts(emulator, ["active", "suspended", "closed"])

    run = run_tap_process(parent_config(emulator))

    assert run.returncode == 0, run.stderr
    assert accounts_read(run) == {PARENT_SID, active}
    assert discovery_entries(run) == {f"account {suspended}": "suspended", f"account {closed}": "closed"}
    assert f"subaccount {suspended} is suspended: skipped" in run.stderr
    # Their data was never asked for.
    tokens = {subaccount_token(2), subaccount_token(3)}
    assert not any(seen.headers.get("Authorization", "").endswith(tuple(tokens)) for seen in emulator.seen)


def test_a_subaccount_whose_token_cannot_be_had_is_named_and_the_others_are_read(emulator):
    emulator.accounts.auth_token_filled_by = "fetch"
    first, withheld, third = add_subaccounts(emulator, ["active", "active", "active"])
    emulator.accounts.withhold_auth_token(withheld)

    run = run_tap_process(parent_config(emulator))

    assert run.returncode != 0
    assert accounts_read(run) == {PARENT_SID, first, third}
    assert state_accounts(run.final_state) == {PARENT_SID, first, third}
    assert discovery_entries(run) == {f"account {withheld}": "no credentials"}
    assert run.run_report["status"] == "failed"
    assert withheld in run.stderr.splitlines()[-1], "the last line names it"


def test_a_revoked_subaccount_is_named_and_the_others_are_read(emulator):
    first, revoked = add_subaccounts(emulator, ["active", "active"])
    emulator.revoke_twilio_account(revoked)

    run = run_tap_process(parent_config(emulator))

    assert run.returncode != 0
    assert accounts_read(run) == {PARENT_SID, first}
    assert f"account {revoked}" in run.stderr.splitlines()[-1]
    assert first in state_accounts(run.final_state)


def test_a_list_of_sids_reads_only_those_and_names_one_that_is_not_a_subaccount(emulator):
    first, _, third = add_subaccounts(emulator, ["active", "active", "active"])
    stranger = subaccount_sid(0x42)

    run = run_tap_process(parent_config(emulator, twilio_subaccounts=[first, third, stranger]))

    assert run.returncode != 0
    assert accounts_read(run) == {PARENT_SID, first, third}
    assert set(discovery_entries(run)) == {f"account {stranger}"}
    assert "not a subaccount of" in run.stderr


def test_a_list_of_sids_in_one_string_is_read_too(emulator):
    first, second = add_subaccounts(emulator, ["active", "active"])

    run = run_tap_process(parent_config(emulator, twilio_subaccounts=f"{first}, {second}"))

    assert run.returncode == 0, run.stderr
    assert accounts_read(run) == {PARENT_SID, first, second}


def test_the_parent_is_still_read_when_its_subaccounts_cannot_be_listed(emulator):
    add_subaccounts(emulator, ["active"])
    emulator.faults.add(LIST, status=500, times=100)

    run = run_tap_process(parent_config(emulator, max_request_retries=1))

    assert run.returncode != 0
    assert accounts_read(run) == {PARENT_SID}
    assert "HTTP 500" in run.stderr and LIST in run.stderr
    assert discovery_entries(run) == {f"account {PARENT_SID}": "failed"}


@pytest.mark.parametrize("subaccounts", ["all", [subaccount_sid(1)]])
def test_a_parent_with_only_an_api_key_is_refused_before_any_request(emulator, subaccounts):
    config = parent_config(
        emulator,
        twilio_auth_token=None,
        twilio_api_key_sid=DEFAULT_API_KEY_SID,
        twilio_api_key_secret=DEFAULT_API_KEY_SECRET,
        twilio_subaccounts=subaccounts,
    )

    run = run_tap_process(config)

    assert run.returncode != 0
    assert emulator.seen == []
    assert "twilio_subaccounts needs twilio_auth_token" in run.stderr
    assert "twilio_accounts" in run.stderr, "it says what works instead"
    assert "Traceback" not in run.stderr


API_BASE_URL = "twilio_api_base_url"
BAD = {
    "not none, all or SIDs": ({"twilio_subaccounts": "every"}, "twilio_subaccounts"),
    "a SID of the wrong kind": ({"twilio_subaccounts": ["SK" + "0" * 32]}, "twilio_subaccounts"),
    "an empty list": ({"twilio_subaccounts": []}, "twilio_subaccounts"),
    "plain http to a remote Accounts API": ({"twilio_api_base_url": "http://api.example.com"}, "twilio_api_base_url"),
    "an Accounts API URL with a path": (
        {"twilio_api_base_url": "https://api.twilio.com/2010-04-01"},
        "twilio_api_base_url",
    ),
}


@pytest.mark.parametrize("overrides,setting", BAD.values(), ids=BAD.keys())
def test_a_bad_subaccount_setting_is_refused_before_any_request(emulator, overrides, setting):
    run = run_tap_process(parent_config(emulator, **overrides))

    assert run.returncode != 0
    assert setting in run.stderr
    assert emulator.seen == []


def test_only_active_subaccounts_of_the_shard_have_their_token_fetched(emulator):
    emulator.accounts.auth_token_filled_by = "fetch"
    sids = add_subaccounts(emulator, ["active", "suspended", "closed", "active", "active", "active"])
    active = [
        sid
        for sid, status in zip(sids, ["active", "suspended", "closed", "active", "active", "active"], strict=True)
        if status == "active"
    ]
    in_shard = [sid for sid in active if shard_of(sid, 2) == 1]
    assert 0 < len(in_shard) < len(active), "choose SIDs spread over both shards"

    run = run_tap_process(parent_config(emulator, shard="1/2"))

    assert run.returncode == 0, run.stderr
    assert sorted(url.split(FETCH)[1].removesuffix(".json") for url in requests_to(emulator, FETCH)) == sorted(in_shard)
