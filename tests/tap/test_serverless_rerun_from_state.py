"""A re-run from the final STATE emits, per environment, only logs from bookmark - lookback on."""

from __future__ import annotations

import datetime as dt

from tests.common import SERVERLESS_LOGS, parse
from tests.serverless_helpers import environment_bookmark, environments, logs_since, serverless_config
from tests.tap_runner import catalog_selecting, run_tap


def test_rerun_emits_only_each_environments_lookback(emulator):
    config = serverless_config(emulator, lookback_window_minutes=30)
    catalog = catalog_selecting(config, [SERVERLESS_LOGS])
    first = run_tap(config, catalog=catalog)
    assert first.returncode == 0, first.stderr

    second = run_tap(config, state=first.final_state, catalog=catalog)

    assert second.returncode == 0, second.stderr
    for environment in environments(emulator):
        bookmark = environment_bookmark(first, environment)
        assert bookmark is not None
        cutoff = parse(bookmark) - dt.timedelta(minutes=30)
        emitted = [r["sid"] for r in second.records[SERVERLESS_LOGS] if r["environment_sid"] == environment["sid"]]
        assert sorted(emitted) == sorted(logs_since(emulator, cutoff, environment["sid"]))
        assert environment_bookmark(second, environment) == bookmark
    assert 0 < len(second.records[SERVERLESS_LOGS]) < len(first.records[SERVERLESS_LOGS])


def test_rerun_picks_up_logs_that_arrived_since(emulator):
    config = serverless_config(emulator)
    catalog = catalog_selecting(config, [SERVERLESS_LOGS])
    first = run_tap(config, catalog=catalog)
    environment = environments(emulator)[-1]
    (late,) = emulator.serverless.add_logs(
        environment["service_sid"],
        environment["sid"],
        [dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)],
    )

    second = run_tap(config, state=first.final_state, catalog=catalog)

    assert late["sid"] in {record["sid"] for record in second.records[SERVERLESS_LOGS]}
    assert late["sid"] not in {record["sid"] for record in first.records[SERVERLESS_LOGS]}
    assert environment_bookmark(second, environment) == late["date_created"]
