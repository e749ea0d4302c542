"""BATCH mode: the batch files hold each record exactly as a RECORD message would, with
deselected properties left out and stream maps applied (the SDK alone batches raw records)."""

from __future__ import annotations

import typing as t

from tests.batch_helpers import batch_config, batched
from tests.common import MONITOR_EVENTS, twilio_config
from tests.tap_runner import catalog_selecting, run_tap

if t.TYPE_CHECKING:
    from pathlib import Path


def assert_batched_as_recorded(
    config: dict[str, t.Any], catalog: dict[str, t.Any], tmp_path: Path
) -> list[dict[str, t.Any]]:
    """The batched records, once checked equal to what a run without `batch_config` writes."""
    recorded = run_tap(config, catalog=catalog)
    batch_run = run_tap({**config, "batch_config": batch_config(tmp_path, 50)}, catalog=catalog)

    assert batch_run.returncode == 0, batch_run.stderr
    records = recorded.records[MONITOR_EVENTS]
    assert records
    batch_records = batched(batch_run, MONITOR_EVENTS)
    assert {r["sid"]: r for r in batch_records} == {r["sid"]: r for r in records}
    return batch_records


def test_a_deselected_property_is_left_out_of_the_batch_files(emulator, tmp_path: Path) -> None:
    catalog = catalog_selecting(twilio_config(emulator), [MONITOR_EVENTS])
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == MONITOR_EVENTS)
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", "source_ip_address"]:
            metadata["metadata"]["selected"] = False

    records = assert_batched_as_recorded(twilio_config(emulator), catalog, tmp_path)
    assert all("source_ip_address" not in record for record in records)


def test_stream_maps_apply_to_the_batch_files(emulator, tmp_path: Path) -> None:
    config = twilio_config(emulator, stream_maps={MONITOR_EVENTS: {"kind": "event_type.upper()", "links": None}})

    records = assert_batched_as_recorded(config, catalog_selecting(config, [MONITOR_EVENTS]), tmp_path)
    assert all("links" not in record and "kind" in record for record in records)
