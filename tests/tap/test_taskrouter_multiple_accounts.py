"""Several Twilio accounts: each account's workspaces are read with its own credential."""

from __future__ import annotations

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import TASKROUTER_EVENTS, TASKROUTER_WORKSPACES, twilio_config
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import catalog, partition, sids, taskrouter_api

SUBACCOUNT_SID = "AC" + "ab" * 16
SUBACCOUNT_TOKEN = "subaccount-token"


def _config(emulator, **overrides):
    accounts = [{"account_sid": SUBACCOUNT_SID, "auth_token": SUBACCOUNT_TOKEN}]
    return twilio_config(emulator, twilio_accounts=accounts, **overrides)


def test_every_account_gets_its_workspaces_events_and_bookmarks(emulator):
    emulator.add_twilio_account(SUBACCOUNT_SID, SUBACCOUNT_TOKEN)
    api = taskrouter_api(emulator)

    run = run_tap(_config(emulator), catalog=catalog(TASKROUTER_WORKSPACES, TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    for account_sid in (DEFAULT_ACCOUNT_SID, SUBACCOUNT_SID):
        workspaces = {workspace["sid"] for workspace in api.workspaces[account_sid]}
        assert {r["sid"] for r in run.records[TASKROUTER_WORKSPACES] if r["account_sid"] == account_sid} == workspaces
        emitted = [r for r in run.records[TASKROUTER_EVENTS] if r["account_sid"] == account_sid]
        expected = {event["sid"] for sid in workspaces for event in api.events_of(sid, account_sid=account_sid)}
        assert len(emitted) == len(expected) and sids(emitted) == expected
        for sid in workspaces:
            newest = max(event["event_date"] for event in api.events_of(sid, account_sid=account_sid))
            assert run.bookmark(TASKROUTER_EVENTS, partition(sid, account_sid)) == newest


def test_workspace_sids_may_name_workspaces_of_any_configured_account(emulator):
    emulator.add_twilio_account(SUBACCOUNT_SID, SUBACCOUNT_TOKEN)
    api = taskrouter_api(emulator)
    chosen = [next(iter(api.workspaces[DEFAULT_ACCOUNT_SID]))["sid"]]
    chosen += [next(iter(api.workspaces[SUBACCOUNT_SID]))["sid"]]

    run = run_tap(_config(emulator, twilio_workspace_sids=chosen), catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert {record["workspace_sid"] for record in run.records[TASKROUTER_EVENTS]} == set(chosen)
    assert "no configured account lists" not in run.stderr
