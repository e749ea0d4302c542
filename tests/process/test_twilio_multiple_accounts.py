"""Several Twilio accounts in one run: each a partition with its own credential and bookmarks."""

from __future__ import annotations

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, twilio_config
from tests.tap_runner import catalog_selecting, run_tap_process

SUBACCOUNT_SID = "AC" + "ab" * 16
SUBACCOUNT_TOKEN = "subaccount-token"
STREAMS = [MONITOR_EVENTS, MONITOR_ALERTS]


def test_every_account_is_read_with_its_own_credential_and_bookmark(emulator):
    emulator.add_twilio_account(SUBACCOUNT_SID, SUBACCOUNT_TOKEN)
    config = twilio_config(emulator, twilio_accounts=[{"account_sid": SUBACCOUNT_SID, "auth_token": SUBACCOUNT_TOKEN}])

    run = run_tap_process(config, catalog=catalog_selecting(config, STREAMS))

    assert run.returncode == 0, run.stderr
    for account_sid in (DEFAULT_ACCOUNT_SID, SUBACCOUNT_SID):
        emitted = [r["sid"] for r in run.records[MONITOR_EVENTS] if r["account_sid"] == account_sid]
        expected = {event["sid"] for event in emulator.monitor.events[account_sid]}
        assert len(emitted) == len(set(emitted)) and set(emitted) == expected
        newest = max(event["event_date"] for event in emulator.monitor.events[account_sid])
        assert run.bookmark(MONITOR_EVENTS, {"account_sid": account_sid}) == newest
        assert run.bookmark(MONITOR_ALERTS, {"account_sid": account_sid})


def test_accounts_can_use_api_keys(emulator):
    key_sid, key_secret = "SK" + "cd" * 16, "subaccount-key-secret"
    emulator.add_twilio_account(SUBACCOUNT_SID, SUBACCOUNT_TOKEN)
    emulator.twilio_api_keys[key_sid] = (key_secret, SUBACCOUNT_SID)
    config = twilio_config(
        emulator,
        twilio_accounts=[{"account_sid": SUBACCOUNT_SID, "api_key_sid": key_sid, "api_key_secret": key_secret}],
    )

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    subaccount_events = {r["sid"] for r in run.records[MONITOR_EVENTS] if r["account_sid"] == SUBACCOUNT_SID}
    assert subaccount_events == {event["sid"] for event in emulator.monitor.events[SUBACCOUNT_SID]}


def test_a_malformed_account_entry_is_rejected_before_any_request(emulator):
    config = twilio_config(emulator, twilio_accounts=[{"account_sid": SUBACCOUNT_SID}])

    run = run_tap_process(config)

    assert run.returncode != 0
    assert "twilio_accounts[0]" in run.stderr
    assert emulator.seen == []
