"""Subaccount auth tokens found at run time are never written anywhere (records, STATE, logs at
DEBUG, errors, the run report), and go only to the configured Twilio hosts: the parent's auth
token to `twilio_api_base_url` only, each subaccount's token to the v1 APIs' base URLs only."""

from __future__ import annotations

import base64
import typing as t

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_AUTH_TOKEN
from tests.subaccount_helpers import PARENT_SID, add_subaccounts, parent_config, small_sizes, subaccount_token
from tests.tap_runner import run_tap_process

STATUSES = ["active", "active", "active", "suspended"]


def secrets(sids: list[str]) -> dict[str, str]:
    """What must never be written: each token, and the Basic-auth value that would carry it."""
    found = {}
    for number, sid in enumerate(sids, start=1):
        token = subaccount_token(number)
        found[token] = token
        found[f"basic({sid})"] = base64.b64encode(f"{sid}:{token}".encode()).decode()
    found["parent basic"] = base64.b64encode(f"{PARENT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
    return found


@pytest.fixture(params=["list", "fetch"])
def emulator(request: pytest.FixtureRequest) -> t.Iterator[Emulator]:
    with Emulator(**small_sizes()) as running:
        running.accounts.auth_token_filled_by = request.param
        yield running


def test_no_subaccount_token_is_written_even_when_runs_fail(emulator):
    sids = add_subaccounts(emulator, STATUSES)
    emulator.revoke_twilio_account(sids[1])  # its requests are refused: errors are logged
    emulator.accounts.withhold_auth_token(sids[2])  # its credentials cannot be had: named

    run = run_tap_process(parent_config(emulator), env={"LOGLEVEL": "DEBUG", "TAP_EVENTS_LOGLEVEL": "DEBUG"})

    assert run.returncode != 0
    assert "DEBUG" in run.stderr
    assert run.states and run.records, "the run wrote STATE and records"
    written = {"stdout (records, STATE)": run.stdout, "stderr (logs, errors, run report)": run.stderr}
    for where, text in written.items():
        leaked = [name for name, value in secrets(sids).items() if value in text]
        assert leaked == [], f"{where} holds {leaked}"


def test_tokens_are_sent_only_to_their_configured_hosts(emulator):
    sids = add_subaccounts(emulator, STATUSES)
    # The same server under two names: the Accounts API on `localhost`, the v1 APIs on 127.0.0.1.
    config = parent_config(emulator, twilio_api_base_url=f"http://localhost:{emulator.port}")

    run = run_tap_process(config)

    assert run.returncode == 0, run.stderr
    parent = "Basic " + base64.b64encode(f"{PARENT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
    subaccount_headers = {
        "Basic " + base64.b64encode(f"{sid}:{subaccount_token(n)}".encode()).decode()
        for n, sid in enumerate(sids, start=1)
    }
    accounts_api = [seen for seen in emulator.seen if "/2010-04-01/" in seen.url]
    assert accounts_api, "the subaccounts were listed"
    for seen in accounts_api:
        assert seen.headers["Host"] == f"localhost:{emulator.port}"
        assert seen.headers["Authorization"] == parent
    with_subaccount_token = [seen for seen in emulator.seen if seen.headers.get("Authorization") in subaccount_headers]
    assert with_subaccount_token, "the subaccounts were read with their own tokens"
    for seen in with_subaccount_token:
        assert seen.headers["Host"] == f"127.0.0.1:{emulator.port}"
        assert "/2010-04-01/" not in seen.url
