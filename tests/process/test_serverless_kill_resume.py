"""`kill -9` in the middle of a run, then a run from its last STATE: no log is lost."""

from __future__ import annotations

import signal
import typing as t

from tests.common import SERVERLESS_LOGS, parse
from tests.serverless_helpers import environment_bookmark, environments, logs_since, serverless_config
from tests.tap_runner import catalog_selecting, run_tap_and_kill, run_tap_process


def _log_records(messages: list[dict[str, t.Any]]) -> int:
    return sum(1 for message in messages if message["type"] == "RECORD" and message["stream"] == SERVERLESS_LOGS)


def test_a_run_killed_mid_window_resumes_without_losing_a_log(emulator):
    config = serverless_config(emulator, page_size=5)
    catalog = catalog_selecting(config, [SERVERLESS_LOGS])
    expected = set(logs_since(emulator, config["start_date"]))

    killed = run_tap_and_kill(
        config, catalog=catalog, kill_when=lambda messages: _log_records(messages) >= len(expected) // 2
    )
    assert killed.returncode == -signal.SIGKILL
    assert killed.states, "no STATE before the kill: kill later"
    resumed = run_tap_process(config, state=killed.final_state, catalog=catalog)

    assert resumed.returncode == 0, resumed.stderr
    before = {record["sid"] for record in killed.records[SERVERLESS_LOGS]}
    after = {record["sid"] for record in resumed.records[SERVERLESS_LOGS]}
    assert before
    assert after
    assert before | after == expected, "a log was lost"
    assert len(before) < len(expected)
    for environment in environments(emulator):
        bookmark = environment_bookmark(killed, environment)
        if bookmark:  # nothing before bookmark - lookback is read again
            lookback = parse(bookmark).timestamp() - config.get("lookback_window_minutes", 10) * 60
            assert all(
                parse(record["date_created"]).timestamp() >= lookback
                for record in resumed.records[SERVERLESS_LOGS]
                if record["environment_sid"] == environment["sid"]
            )
