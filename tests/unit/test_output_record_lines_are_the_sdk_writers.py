"""The fast path's RECORD lines (`output.RecordLines`, orjson) say what the SDK's writer would have
written for the same record (msgspec, `EventsWriter.format_message`): byte for byte for what the
APIs send, and the same JSON for values orjson encodes otherwise or not at all (dates, decimals,
bytes, integers over 64 bits), which are handed to the SDK's encoder. `time_extracted` is the same
instant, to the second (written with `+00:00`, where the SDK writes `Z` and microseconds)."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import typing as t

import pytest
from singer_sdk.singerlib.encoding.simple import RecordMessage

from tap_events.output import EventsWriter, RecordLines

STREAM = "twilio_monitor_events"
API_RECORD = {
    "sid": "AE0abe481a4ab3d25f77fdacd27edd9861",
    "event_date": "2026-11-29T05:31:20Z",
    "description": None,
    "event_data": {"resource_properties": {"friendly_name": {"previous": "old", "updated": "naïve ☎ \u2028"}}},
    "source_ip_address": "203.0.113.159",
    "attempts": [1, 2.5, True, False],
    "text": 'quotes " backslash \\ slash / control \x01 tab \t',
}
OTHER_VALUES: dict[str, t.Any] = {
    "big integer": {"sid": "AE1", "value": 2**70, "negative": -(2**65)},
    "aware datetime": {"sid": "AE2", "value": dt.datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC)},
    "naive datetime and date": {"sid": "AE3", "value": dt.datetime(2026, 1, 2, 3, 4, 5), "day": dt.date(2026, 1, 2)},
    "decimal": {"sid": "AE4", "value": decimal.Decimal("12.50")},
    "bytes": {"sid": "AE5", "value": b"\x00\xff"},
    "large float": {"sid": "AE6", "value": 1e300, "tiny": 5e-324},
}


def fast_line(record: dict[str, t.Any], keep: frozenset[str], version: int | None, monkeypatch) -> bytes:
    written = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(written))  # no file descriptor: its buffer is used
    writer = EventsWriter()
    RecordLines(writer, STREAM, keep).write([record], version)
    writer.output().flush()
    return written.getvalue()


def same_line(fast: bytes, sdk: bytes) -> bool:
    """Byte for byte up to `time_extracted`, then the same instant."""
    cut = b'"time_extracted":'
    extracted = [dt.datetime.fromisoformat(json.loads(line)["time_extracted"]) for line in (fast, sdk)]
    return fast.split(cut)[0] == sdk.split(cut)[0] and extracted[0] == extracted[1]


def sdk_line(record: dict[str, t.Any], keep: frozenset[str], version: int | None, fast: bytes) -> bytes:
    """The SDK writer's line for the record projected on `keep`, extracted when the fast line says."""
    extracted = dt.datetime.fromisoformat(json.loads(fast)["time_extracted"])
    projected = {name: value for name, value in record.items() if name in keep}
    message = RecordMessage(stream=STREAM, record=projected, version=version, time_extracted=extracted)
    return bytes(EventsWriter().format_message(message))


@pytest.mark.parametrize("version", [None, 1764394280])
def test_a_record_as_the_apis_send_it_is_written_byte_for_byte_as_the_sdk_would(version, monkeypatch):
    keep = frozenset(API_RECORD)

    fast = fast_line(API_RECORD, keep, version, monkeypatch)

    assert same_line(fast, sdk_line(API_RECORD, keep, version, fast))


def test_only_the_selected_properties_are_written(monkeypatch):
    keep = frozenset({"sid", "event_date"})

    fast = fast_line(API_RECORD, keep, None, monkeypatch)

    assert json.loads(fast)["record"] == {"sid": API_RECORD["sid"], "event_date": API_RECORD["event_date"]}
    assert same_line(fast, sdk_line(API_RECORD, keep, None, fast))


@pytest.mark.parametrize("record", OTHER_VALUES.values(), ids=OTHER_VALUES.keys())
def test_values_orjson_would_write_otherwise_are_written_as_the_sdk_would(record, monkeypatch):
    keep = frozenset(record)

    fast = fast_line(record, keep, None, monkeypatch)

    sdk = sdk_line(record, keep, None, fast)
    assert {**json.loads(fast), "time_extracted": None} == {**json.loads(sdk), "time_extracted": None}
