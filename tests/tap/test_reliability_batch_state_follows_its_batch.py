"""BATCH mode: a STATE never claims a record that is not in a BATCH message written before it,
and STATE still advances after each batch of a long run."""

from __future__ import annotations

import typing as t

from tests import serverless_helpers, taskrouter_helpers
from tests.batch_helpers import batch_config, batched, claims_ahead_of_batches
from tests.common import MONITOR_EVENTS, SERVERLESS_LOGS, TASKROUTER_EVENTS, TELNYX_AUDIT_EVENTS, twilio_config
from tests.tap_runner import TapRun, catalog_selecting, run_tap
from tests.telnyx_helpers import telnyx_config, telnyx_emulator

if t.TYPE_CHECKING:
    from pathlib import Path

    from emulator import Emulator

#: Small enough that a stream takes many batches, none of which ends where a window does.
BATCH_SIZE = 37


def assert_every_state_follows_the_batches_it_claims(run: TapRun, stream: str, key: str, replication_key: str) -> None:
    batch_positions = [i for i, m in enumerate(run.messages) if m["type"] == "BATCH" and m["stream"] == stream]
    assert len(batch_positions) > 2, "the run must take several batches"
    states_between_batches = 0
    for position, missing in claims_ahead_of_batches(run, stream, batched(run, stream), key, replication_key):
        assert not missing, f"STATE at message {position} claims {len(missing)} record(s) of no BATCH before it"
        states_between_batches += position < batch_positions[-1]
    assert states_between_batches, "STATE advances after each batch, not only at the end"


def assert_batches_hold_every_record_once(run: TapRun, record_run: TapRun, stream: str, key: str) -> None:
    """Each record once, exactly as a run without `batch_config` writes it in a RECORD message."""
    records = batched(run, stream)
    assert len(records) == len({record[key] for record in records})
    assert {r[key]: r for r in records} == {r[key]: r for r in record_run.records[stream]}
    assert not run.records, "batch mode writes no RECORD message"


def test_monitor_events_state_follows_its_batch(emulator: Emulator, tmp_path: Path) -> None:
    stream = MONITOR_EVENTS
    config = twilio_config(emulator, page_size=20, lookback_window_minutes=0)
    catalog = catalog_selecting(config, [stream])

    run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert_every_state_follows_the_batches_it_claims(run, stream, "sid", "event_date")
    assert_batches_hold_every_record_once(run, run_tap(config, catalog=catalog), stream, "sid")


def test_taskrouter_events_state_follows_its_batch(emulator: Emulator, tmp_path: Path) -> None:
    stream = TASKROUTER_EVENTS
    config = twilio_config(emulator, page_size=20, lookback_window_minutes=0)
    catalog = taskrouter_helpers.catalog(stream)

    run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert_every_state_follows_the_batches_it_claims(run, stream, "sid", "event_date")
    assert_batches_hold_every_record_once(run, run_tap(config, catalog=catalog), stream, "sid")


def test_telnyx_audit_events_state_follows_its_batch(tmp_path: Path) -> None:
    stream = TELNYX_AUDIT_EVENTS
    with telnyx_emulator() as emulator:
        config = telnyx_config(emulator, page_size=10, lookback_window_minutes=0)

        run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)})

        assert run.returncode == 0, run.stderr
        assert_every_state_follows_the_batches_it_claims(run, stream, "id", "created_at")
        assert_batches_hold_every_record_once(run, run_tap(config), stream, "id")


def test_serverless_logs_state_follows_its_batch(emulator: Emulator, tmp_path: Path) -> None:
    stream = SERVERLESS_LOGS
    config = serverless_helpers.serverless_config(emulator, page_size=20, lookback_window_minutes=0)
    catalog = catalog_selecting(config, [stream])

    run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert_every_state_follows_the_batches_it_claims(run, stream, "sid", "date_created")
    assert_batches_hold_every_record_once(run, run_tap(config, catalog=catalog), stream, "sid")
