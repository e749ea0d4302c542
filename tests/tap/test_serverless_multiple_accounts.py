"""Several Twilio accounts: each reads its own services with its own credential and bookmarks."""

from __future__ import annotations

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import SERVERLESS_LOGS, SERVERLESS_SERVICES, assert_each_once, parse
from tests.serverless_helpers import serverless_config
from tests.tap_runner import catalog_selecting, run_tap

SUBACCOUNT_SID = "AC" + "ab" * 16
SUBACCOUNT_TOKEN = "subaccount-token"


def test_each_accounts_logs_are_read_once_with_their_own_bookmarks(emulator):
    emulator.add_twilio_account(SUBACCOUNT_SID, SUBACCOUNT_TOKEN)
    config = serverless_config(
        emulator, twilio_accounts=[{"account_sid": SUBACCOUNT_SID, "auth_token": SUBACCOUNT_TOKEN}]
    )

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_SERVICES, SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    api = emulator.serverless
    for account_sid in (DEFAULT_ACCOUNT_SID, SUBACCOUNT_SID):
        services = {service["sid"] for service in api.services[account_sid]}
        assert {r["sid"] for r in run.records[SERVERLESS_SERVICES] if r["account_sid"] == account_sid} == services
        environments = [env for sid in services for env in api.environments_of(sid, account_sid=account_sid)]
        expected = {
            log["sid"]
            for env in environments
            for log in api.logs_of(env["sid"], account_sid=account_sid)
            if parse(log["date_created"]) >= parse(config["start_date"])
        }
        emitted = [r["sid"] for r in run.records[SERVERLESS_LOGS] if r["account_sid"] == account_sid]
        assert_each_once(emitted, "log")
        assert set(emitted) == expected
    partitions = run.final_state["bookmarks"][SERVERLESS_LOGS]["partitions"]
    assert {p["context"]["account_sid"] for p in partitions} == {DEFAULT_ACCOUNT_SID, SUBACCOUNT_SID}
    assert len(partitions) == 6  # three environments in each account


def test_service_sids_may_name_services_of_any_configured_account(emulator):
    emulator.add_twilio_account(SUBACCOUNT_SID, SUBACCOUNT_TOKEN)
    api = emulator.serverless
    chosen = [next(iter(api.services[account_sid]))["sid"] for account_sid in (DEFAULT_ACCOUNT_SID, SUBACCOUNT_SID)]
    config = serverless_config(
        emulator,
        twilio_accounts=[{"account_sid": SUBACCOUNT_SID, "auth_token": SUBACCOUNT_TOKEN}],
        twilio_service_sids=chosen,
    )

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_SERVICES]))

    assert run.returncode == 0, run.stderr
    assert sorted(record["sid"] for record in run.records[SERVERLESS_SERVICES]) == sorted(chosen)
    assert "no configured account lists" not in run.stderr
