"""`twilio_workspace_sids` restricts both streams to the named workspaces."""

from __future__ import annotations

from tests.common import TASKROUTER_EVENTS, TASKROUTER_WORKSPACES, twilio_config
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import catalog, events_by_workspace, events_requests, sids, workspace_sids

UNKNOWN = "WS" + "0" * 32


def test_only_the_configured_workspaces_are_read(emulator):
    chosen, *others = workspace_sids(emulator)
    config = twilio_config(emulator, twilio_workspace_sids=[chosen])

    run = run_tap(config, catalog=catalog(TASKROUTER_WORKSPACES, TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert sids(run.records[TASKROUTER_WORKSPACES]) == {chosen}
    assert sids(run.records[TASKROUTER_EVENTS]) == sids(events_by_workspace(emulator)[chosen])
    assert not [url for url in events_requests(emulator) if any(other in url for other in others)]


def test_a_configured_workspace_the_account_does_not_list_is_logged_and_skipped(emulator):
    chosen = workspace_sids(emulator)[0]
    config = twilio_config(emulator, twilio_workspace_sids=[chosen, UNKNOWN])

    run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert {record["workspace_sid"] for record in run.records[TASKROUTER_EVENTS]} == {chosen}
    assert any("twilio_workspace_sids" in line and UNKNOWN in line for line in run.stderr.splitlines())
    assert not [url for url in events_requests(emulator) if UNKNOWN in url]


def test_configured_sids_match_whatever_the_case_of_their_hex(emulator):
    chosen = workspace_sids(emulator)[0]
    config = twilio_config(emulator, twilio_workspace_sids=["WS" + chosen[2:].upper()])

    run = run_tap(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert {record["workspace_sid"] for record in run.records[TASKROUTER_EVENTS]} == {chosen}
    assert "no configured account lists" not in run.stderr
