"""`schema-flattening`: with `flattening_enabled`, declared nested properties arrive as top-level
columns (`event_data__task_attributes`), in the SCHEMA and in every RECORD (the SDK's own path,
which the fast RECORD path hands over to when flattening is on)."""

from __future__ import annotations

from tests.common import TASKROUTER_EVENTS, iso
from tests.meltano_helpers import small_emulator, start_date
from tests.tap_runner import catalog_selecting, run_tap


def test_declared_nested_properties_become_columns():
    with small_emulator() as emulator:
        config = emulator.tap_config(
            start_date=iso(start_date()), telnyx_api_key=None, flattening_enabled=True, flattening_max_depth=1
        )
        run = run_tap(config, catalog=catalog_selecting(config, [TASKROUTER_EVENTS]))

    assert run.returncode == 0, run.stderr
    schemas = [m["schema"] for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == TASKROUTER_EVENTS]
    assert schemas and all(schema == schemas[0] for schema in schemas)  # one per workspace
    schema = schemas[0]
    assert {"event_data__task_attributes", "event_data__worker_attributes"} <= set(schema["properties"])
    assert "event_data" not in schema["properties"]
    records = run.records[TASKROUTER_EVENTS]
    assert records and all("event_data" not in record for record in records)
    assert any("event_data__task_attributes" in record for record in records)
