"""Every RECORD is valid against the SCHEMA the tap sent for its stream, and deselected fields are gone."""

from __future__ import annotations

import datetime as dt

from jsonschema import Draft7Validator, FormatChecker

from tests.common import MONITOR_EVENTS, twilio_config
from tests.tap_runner import catalog_selecting, run_tap


def test_every_record_of_every_stream_is_valid_against_its_schema(emulator):
    config = emulator.tap_config(start_date=(dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).isoformat())

    run = run_tap(config)

    assert run.returncode == 0, run.stderr
    schemas = {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}
    assert run.records, "the emulator serves records for the last days"
    for stream, records in run.records.items():
        validator = Draft7Validator(schemas[stream], format_checker=FormatChecker())
        for record in records:
            errors = [error.message for error in validator.iter_errors(record)]
            assert not errors, f"{stream}: {errors[:3]}"
            assert set(record) <= set(schemas[stream]["properties"])


def test_a_deselected_property_is_not_emitted(emulator):
    catalog = catalog_selecting(twilio_config(emulator), [MONITOR_EVENTS])
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == MONITOR_EVENTS)
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", "source_ip_address"]:
            metadata["metadata"]["selected"] = False

    run = run_tap(twilio_config(emulator), catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert run.records[MONITOR_EVENTS]
    assert all("source_ip_address" not in record for record in run.records[MONITOR_EVENTS])
    assert all("event_date" in record for record in run.records[MONITOR_EVENTS])


def test_stream_maps_still_apply(emulator):
    config = twilio_config(emulator, stream_maps={MONITOR_EVENTS: {"kind": "event_type.upper()", "links": None}})

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    records = run.records[MONITOR_EVENTS]
    assert records and all(record["kind"] == record["event_type"].upper() for record in records)
    assert all("links" not in record for record in records)
