"""BATCH mode: a STATE never claims a record that is not in a BATCH message written before it,
and STATE still advances after each batch of a long run."""

from __future__ import annotations

import datetime as dt
import typing as t

from tests import taskrouter_helpers
from tests.batch_helpers import batch_config, batch_records, batched
from tests.tap_runner import TapRun, catalog_selecting, run_tap
from tests.telnyx_helpers import telnyx_config, telnyx_emulator

if t.TYPE_CHECKING:
    from pathlib import Path

    from emulator import Emulator

#: Small enough that a stream takes many batches, none of which ends where a window does.
BATCH_SIZE = 37


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def bookmarks(state: dict[str, t.Any], stream: str) -> list[tuple[dict[str, t.Any], str]]:
    """(partition context, bookmark) of every bookmark a STATE holds for `stream`."""
    stream_state = state.get("bookmarks", {}).get(stream, {})
    entries = [stream_state, *stream_state.get("partitions", [])]
    return [
        (entry.get("context", {}), entry["replication_key_value"])
        for entry in entries
        if "replication_key_value" in entry
    ]


def assert_every_state_follows_the_batches_it_claims(run: TapRun, stream: str, key: str, replication_key: str) -> None:
    """What a STATE claims: every record of its partition older than its bookmark (a run resumed
    from it starts at the bookmark)."""
    every = batched(run, stream)
    batch_positions = [i for i, m in enumerate(run.messages) if m["type"] == "BATCH" and m["stream"] == stream]
    assert len(batch_positions) > 2, "the run must take several batches"
    announced: set[str] = set()
    states_between_batches = 0
    for position, message in enumerate(run.messages):
        if message["type"] == "BATCH" and message["stream"] == stream:
            announced |= {record[key] for record in batch_records(message)}
        elif message["type"] == "STATE":
            for context, bookmark in bookmarks(message["value"], stream):
                claimed = {
                    record[key]
                    for record in every
                    if all(record.get(name) == value for name, value in context.items())
                    and parse(record[replication_key]) < parse(bookmark)
                }
                missing = claimed - announced
                assert not missing, f"STATE at message {position} claims {len(missing)} record(s) of no BATCH before it"
                if position < batch_positions[-1]:
                    states_between_batches += 1
    assert states_between_batches, "STATE advances after each batch, not only at the end"


def assert_batches_hold_every_record_once(run: TapRun, record_run: TapRun, stream: str, key: str) -> None:
    """Each record once, exactly as a run without `batch_config` writes it in a RECORD message."""
    records = batched(run, stream)
    assert len(records) == len({record[key] for record in records})
    assert {r[key]: r for r in records} == {r[key]: r for r in record_run.records[stream]}
    assert not run.records, "batch mode writes no RECORD message"


def test_monitor_events_state_follows_its_batch(emulator: Emulator, twilio_config: dict, tmp_path: Path) -> None:
    stream = "twilio_monitor_events"
    config = {**twilio_config, "page_size": 20, "lookback_window_minutes": 0}
    catalog = catalog_selecting(config, [stream])

    run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert_every_state_follows_the_batches_it_claims(run, stream, "sid", "event_date")
    assert_batches_hold_every_record_once(run, run_tap(config, catalog=catalog), stream, "sid")


def test_taskrouter_events_state_follows_its_batch(emulator: Emulator, twilio_config: dict, tmp_path: Path) -> None:
    stream = taskrouter_helpers.EVENTS
    config = {**twilio_config, "page_size": 20, "lookback_window_minutes": 0}
    catalog = taskrouter_helpers.catalog(stream)

    run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert_every_state_follows_the_batches_it_claims(run, stream, "sid", "event_date")
    assert_batches_hold_every_record_once(run, run_tap(config, catalog=catalog), stream, "sid")


def test_telnyx_audit_events_state_follows_its_batch(tmp_path: Path) -> None:
    stream = "telnyx_audit_events"
    with telnyx_emulator() as emulator:
        config = telnyx_config(emulator, page_size=10, lookback_window_minutes=0)

        run = run_tap({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)})

        assert run.returncode == 0, run.stderr
        assert_every_state_follows_the_batches_it_claims(run, stream, "id", "created_at")
        assert_batches_hold_every_record_once(run, run_tap(config), stream, "id")
