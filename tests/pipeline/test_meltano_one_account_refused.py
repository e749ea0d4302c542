"""`meltano run` with one of several accounts refused: it exits non-zero (the scheduler's alarm), the
other account is loaded, and Meltano keeps its state for the next run."""

from __future__ import annotations

import json
from pathlib import Path

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS
from tests.meltano_helpers import install_plugins, meltano, meltano_env, meltano_state, small_emulator, start_date

REVOKED_SID = "AC" + "cd" * 16
REVOKED_TOKEN = "revoked-subaccount-token"


def test_meltano_run_fails_loads_the_other_account_and_keeps_its_state(tmp_path: Path) -> None:
    install_plugins()
    with small_emulator() as emulator:
        emulator.add_twilio_account(REVOKED_SID, REVOKED_TOKEN)
        emulator.revoke_twilio_account(REVOKED_SID)
        accounts = [{"account_sid": REVOKED_SID, "auth_token": REVOKED_TOKEN}]
        env = meltano_env(emulator, tmp_path, start_date(), TAP_EVENTS_TWILIO_ACCOUNTS=json.dumps(accounts))

        run = meltano("run", "tap-events", "target-jsonl", env=env, expect_success=False)

        assert run.returncode != 0
        assert f"account {REVOKED_SID}" in run.output and REVOKED_TOKEN not in run.output
        [written] = tmp_path.glob(f"{MONITOR_EVENTS}-*.jsonl")
        loaded = [json.loads(line) for line in written.read_text().splitlines()]
        assert loaded and {record["account_sid"] for record in loaded} == {DEFAULT_ACCOUNT_SID}
        partitions = meltano_state("emulator:tap-events-to-target-jsonl", env)["bookmarks"][MONITOR_EVENTS][
            "partitions"
        ]
        kept = {p["context"]["account_sid"]: p.get("replication_key_value") for p in partitions}
        assert kept[DEFAULT_ACCOUNT_SID], "the healthy account's bookmark is kept for the next run"
        assert not kept.get(REVOKED_SID)
