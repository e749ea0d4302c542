"""An Accounts list whose item is not an account as Twilio's schema has it (not a JSON object,
an `owner_account_sid` that is not a string) is a discovery failure naming the request, not a
traceback: the run goes on with the configured accounts and reports it; the client that asked
closes its connections whatever the answer."""

from __future__ import annotations

import logging

import pytest

from tap_events import subaccounts
from tap_events.report import RunReport
from tap_events.subaccounts import DISCOVERY, AccountsClient, TwilioDirectory
from tests.subaccount_helpers import PARENT_SID, add_subaccounts, parent_config


@pytest.fixture
def recorded_client(monkeypatch) -> list[bool]:
    """The Accounts clients made from now on record each close."""
    closed: list[bool] = []

    class RecordedClient(AccountsClient):
        def close(self) -> None:
            closed.append(True)
            super().close()

    monkeypatch.setattr(subaccounts, "AccountsClient", RecordedClient)
    return closed


@pytest.mark.parametrize(
    ("malformed", "said"),
    [("not_an_object", "that is not a JSON object"), ("owner_not_a_string", "owner_account_sid is not a string")],
)
def test_a_malformed_account_is_a_discovery_failure_naming_the_request(emulator, recorded_client, malformed, said):
    add_subaccounts(emulator, ["active", "active"])
    emulator.accounts.malformed_item = malformed
    report = RunReport()

    accounts = TwilioDirectory(parent_config(emulator), report, logging.getLogger("test")).accounts()

    assert list(accounts) == [PARENT_SID], "the configured account only"
    [failure] = report.failures
    assert failure.stream == DISCOVERY
    assert "GET /2010-04-01/Accounts.json answered with" in failure.message
    assert said in failure.message
    assert recorded_client == [True]


def test_the_accounts_client_is_closed_after_discovery(emulator, recorded_client):
    sids = add_subaccounts(emulator, ["active"])

    accounts = TwilioDirectory(parent_config(emulator), RunReport(), logging.getLogger("test")).accounts()

    assert set(accounts) == {PARENT_SID, *sids}
    assert recorded_client == [True]
