"""Many accounts, one refused: the others are read whole with their STATE, the refused one is
named in one ERROR line and again in the closing line, and the run exits non-zero."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_TELNYX_API_KEY
from tests.common import TELNYX_AUDIT_EVENTS, TWILIO_STREAMS
from tests.tap_runner import TapRun, run_tap_process
from tests.taskrouter_helpers import taskrouter_api

HEALTHY_SID = "AC" + "ab" * 16
REVOKED_SID = "AC" + "cd" * 16
HEALTHY_TOKEN = "healthy-subaccount-token"
REVOKED_TOKEN = "revoked-subaccount-token"


@dataclass
class Runs:
    reference: TapRun  # the same run before anything was refused
    refused: TapRun


def error_lines(run: TapRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if " | ERROR " in line]


def records_of(run: TapRun, account_sid: str) -> dict[str, list[str]]:
    """Primary keys per stream, of one account's records."""
    return {
        stream: sorted(record["sid"] for record in run.records[stream] if record["account_sid"] == account_sid)
        for stream in TWILIO_STREAMS
    }


def partitions_of(run: TapRun, account_sid: str) -> dict[str, list[dict[str, t.Any]]]:
    """Every partition state of one account in the run's last STATE, per stream, without
    `read_through` and `read_through_api_clock` (when each run read, which differs between the two runs)."""
    bookmarks = run.final_state["bookmarks"]
    return {
        stream: [
            {key: value for key, value in p.items() if key not in ("read_through", "read_through_api_clock")}
            for p in bookmarks.get(stream, {}).get("partitions", [])
            if p["context"]["account_sid"] == account_sid
        ]
        for stream in TWILIO_STREAMS
    }


def three_accounts(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    emulator.add_twilio_account(HEALTHY_SID, HEALTHY_TOKEN)
    emulator.add_twilio_account(REVOKED_SID, REVOKED_TOKEN)
    accounts = [
        {"account_sid": REVOKED_SID, "auth_token": REVOKED_TOKEN},  # listed before a healthy one
        {"account_sid": HEALTHY_SID, "auth_token": HEALTHY_TOKEN},
    ]
    # The last three days: every stream has records, and the run is short.
    start_date = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).isoformat()
    # Every workspace of every account, by name: none is unknown, whatever could be listed.
    workspaces = [w["sid"] for account in taskrouter_api(emulator).workspaces.values() for w in account]
    return emulator.tap_config(
        twilio_accounts=accounts, start_date=start_date, twilio_workspace_sids=workspaces, **overrides
    )


@pytest.fixture(scope="module")
def twilio_account_refused() -> Iterator[Runs]:
    with Emulator() as emulator:
        config = three_accounts(emulator, telnyx_api_key=None)
        reference = run_tap_process(config)
        assert reference.returncode == 0, reference.stderr
        emulator.revoke_twilio_account(REVOKED_SID)
        yield Runs(reference, run_tap_process(config))


@pytest.fixture(scope="module")
def telnyx_key_refused() -> Iterator[Runs]:
    with Emulator() as emulator:
        config = three_accounts(emulator)
        reference = run_tap_process(config)
        assert reference.returncode == 0, reference.stderr
        emulator.revoke_telnyx_api_key(DEFAULT_TELNYX_API_KEY)
        yield Runs(reference, run_tap_process(config))


def test_every_other_account_is_read_whole_with_its_state(twilio_account_refused):
    runs = twilio_account_refused
    for account_sid in (DEFAULT_ACCOUNT_SID, HEALTHY_SID):
        assert records_of(runs.refused, account_sid) == records_of(runs.reference, account_sid)
        assert partitions_of(runs.refused, account_sid) == partitions_of(runs.reference, account_sid)
    assert all(records_of(runs.reference, HEALTHY_SID).values()), "every stream has records of the account"


def test_the_refused_account_is_not_claimed_by_state(twilio_account_refused):
    runs = twilio_account_refused
    assert not any(records_of(runs.refused, REVOKED_SID).values())
    for partitions in partitions_of(runs.refused, REVOKED_SID).values():
        assert all("replication_key_value" not in partition for partition in partitions)


def test_the_refused_account_is_named_in_one_error_line(twilio_account_refused):
    refused = twilio_account_refused.refused
    [line] = [line for line in error_lines(refused) if "HTTP 401" in line]
    assert REVOKED_SID in line and "Twilio error 20003" in line
    assert "GET http://127.0.0.1:" in line and "/v1/" in line, "the API and endpoint are named"
    assert REVOKED_TOKEN not in refused.stderr + refused.stdout


def test_the_closing_line_lists_every_account_that_could_not_be_read(twilio_account_refused):
    closing = error_lines(twilio_account_refused.refused)[-1]
    assert "1 partition(s) could not be read" in closing
    assert f"account {REVOKED_SID} (" in closing
    assert HEALTHY_SID not in closing and DEFAULT_ACCOUNT_SID not in closing


def test_the_run_exits_non_zero(twilio_account_refused):
    assert twilio_account_refused.refused.returncode == 1
    assert "Traceback" not in twilio_account_refused.refused.stderr


def test_a_refused_telnyx_key_does_not_stop_the_twilio_accounts(telnyx_key_refused):
    runs = telnyx_key_refused
    for account_sid in (DEFAULT_ACCOUNT_SID, HEALTHY_SID, REVOKED_SID):
        assert records_of(runs.refused, account_sid) == records_of(runs.reference, account_sid)
        assert partitions_of(runs.refused, account_sid) == partitions_of(runs.reference, account_sid)
    assert runs.reference.records[TELNYX_AUDIT_EVENTS], "the emulator has Telnyx events"
    assert not runs.refused.records[TELNYX_AUDIT_EVENTS]
    assert TELNYX_AUDIT_EVENTS not in runs.refused.final_state["bookmarks"] or not runs.refused.final_state[
        "bookmarks"
    ][TELNYX_AUDIT_EVENTS].get("replication_key_value")


def test_a_refused_telnyx_key_is_named_in_one_error_line_and_the_closing_line(telnyx_key_refused):
    refused = telnyx_key_refused.refused
    *errors, closing = error_lines(refused)
    [line] = errors
    assert TELNYX_AUDIT_EVENTS in line and "HTTP 401" in line and "Telnyx error 10009" in line
    assert "the API key's organisation (telnyx_audit_events)" in closing
    assert DEFAULT_TELNYX_API_KEY not in refused.stderr + refused.stdout
    assert refused.returncode == 1


def test_the_workspaces_of_the_refused_account_are_not_called_unknown(twilio_account_refused):
    assert "names SIDs that no configured account lists" not in twilio_account_refused.refused.stderr


def test_the_closing_report_names_the_refused_account_skipped(twilio_account_refused):
    report = twilio_account_refused.refused.run_report
    assert report["status"] == "failed"
    revoked = f"account {REVOKED_SID}"
    skipped = {entry["skipped"] for entry in report["partitions"] if entry["partition"].startswith(revoked)}
    assert skipped == {"refused"}
    assert all(entry["skipped"] is None for entry in report["partitions"] if not entry["partition"].startswith(revoked))
