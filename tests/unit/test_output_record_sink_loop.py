"""The record sink (record_sink.py), in process, on a stream of its own: the copied record loop
writes, page by page, the RECORD lines and STATE the SDK's own loop writes for the same records
(partition keys added, bookmark after the last record, STATE every `STATE_MSG_FREQUENCY` records)."""

from __future__ import annotations

import io
import json
import typing as t
from collections.abc import Iterable, Iterator

from singer_sdk import Tap
from singer_sdk.helpers.types import Context
from singer_sdk.io_base import SingerWriter
from typing_extensions import override

from tap_events.batches import StateGate
from tap_events.output import EventsWriter
from tap_events.record_sink import RecordSink
from tap_events.run import RunContext

PAGES = [
    [{"id": 1, "at": "2026-01-01T00:00:01Z"}, {"id": 2, "at": "2026-01-01T00:00:02Z"}],
    [{"id": 3, "at": "2026-01-01T00:00:03Z"}, {"id": 4, "at": "2026-01-01T00:00:04Z"}],
    [{"id": 5, "at": "2026-01-01T00:00:05Z"}],
]
SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "at": {"type": "string"}, "account_sid": {"type": "string"}},
}


class PagedStream(RecordSink):
    name = "pages"
    schema = SCHEMA
    primary_keys = ("id",)
    replication_key = "at"
    is_sorted = True
    STATE_MSG_FREQUENCY = 3

    def __init__(self, tap: Tap, run: RunContext) -> None:
        self.run = run
        super().__init__(tap)

    @property
    @override
    def partitions(self) -> list[dict] | None:
        return [{"account_sid": "AC1"}]

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        for page in self.get_record_pages(context):
            yield from page

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict]]:
        for page in PAGES:
            yield [dict(record) for record in page]


def _messages(monkeypatch, writer_class: type) -> list[dict[str, t.Any]]:
    """The messages of a run: with `EventsWriter` the sink's page loop, else the SDK's own loop."""

    class OneStreamTap(Tap):
        name = "tap-sink-test"
        message_writer_class = writer_class
        config_jsonschema: t.ClassVar[dict] = {"type": "object", "properties": {}}

        @override
        def discover_streams(self) -> list:
            run = RunContext(writer=self.message_writer, state_gate=StateGate(self.message_writer))
            return [PagedStream(self, run)]

    written = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(written, write_through=True))
    tap = OneStreamTap(config={})
    stream = tap.streams["pages"]
    assert isinstance(stream, PagedStream)
    assert (stream._record_lines is not None) is (writer_class is EventsWriter)
    tap.sync_all()
    if isinstance(tap.message_writer, EventsWriter):
        tap.message_writer.output().flush()
    return [json.loads(line) for line in written.getvalue().splitlines()]


def _comparable(messages: list[dict[str, t.Any]]) -> list[tuple[str, t.Any]]:
    kept = []
    for message in messages:
        if message["type"] == "RECORD":
            kept.append(("RECORD", message["record"]))
        elif message["type"] == "STATE":
            kept.append(("STATE", message["value"]))
    return kept


def _records(messages: list[tuple[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [value for kind, value in messages if kind == "RECORD"]


def _bookmarks(messages: list[tuple[str, t.Any]]) -> list[tuple[int, str | None]]:
    """(records written before it, bookmark) of each STATE."""
    found, written = [], 0
    for kind, value in messages:
        if kind == "RECORD":
            written += 1
        else:
            found.append((written, value["bookmarks"]["pages"]["partitions"][0].get("replication_key_value")))
    return found


def test_the_page_loop_writes_the_records_and_final_state_of_the_sdks_loop(monkeypatch):
    fast = _comparable(_messages(monkeypatch, EventsWriter))
    sdk = _comparable(_messages(monkeypatch, SingerWriter))

    assert _records(fast) == _records(sdk)
    assert [record["id"] for record in _records(fast)] == [1, 2, 3, 4, 5]
    assert {record["account_sid"] for record in _records(fast)} == {"AC1"}
    assert fast[-1] == sdk[-1]
    assert _bookmarks(fast)[-1] == (5, "2026-01-01T00:00:05Z")


def test_state_every_state_msg_frequency_records_comes_after_the_page_that_reaches_it(monkeypatch):
    fast = _bookmarks(_comparable(_messages(monkeypatch, EventsWriter)))
    sdk = _bookmarks(_comparable(_messages(monkeypatch, SingerWriter)))

    assert (3, "2026-01-01T00:00:03Z") in sdk  # the SDK: after the third record
    assert (4, "2026-01-01T00:00:04Z") in fast  # a page at a time: after the page holding it
    assert all(bookmark is None or int(bookmark[-3:-1]) <= written for written, bookmark in fast)
