"""The per-record hot path: RECORD messages without the SDK's generic per-record work.

The SDK conforms every value recursively against the schema and walks every record for
deselected properties; records parsed from JSON need neither. When the catalog selects whole
top-level properties and no stream map or flattening is configured, a record is projected on
its selected properties and written as is; otherwise the SDK's own path runs.
"""

from __future__ import annotations

import atexit
import gc
import io
import sys
import time
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.contrib.msgspec import encoder as _ENCODER
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class EventsWriter(MsgSpecWriter):
    """msgspec encoding into a 1 MiB stdout buffer, flushed at every message but RECORD: a STATE
    line always reaches the target together with every record written before it, and a run
    killed between two STATE lines loses only records that the last STATE does not claim."""

    _stdout_seen: t.Any = None
    _output: t.Any = None
    _line = bytearray(64)
    #: (stream, version, time_extracted) and the bytes a RECORD line has before and after its record.
    _framing: tuple[tuple[str, int | None, str], bytes, bytes] | None = None

    def _stdout(self) -> t.Any:
        """A 1 MiB buffer on the process's stdout; the stream itself when stdout was redirected
        to something without a file descriptor (as test runners do)."""
        if sys.stdout is not self._stdout_seen:
            if self._output is not None:
                self._output.flush()
            self._stdout_seen = sys.stdout
            try:
                descriptor = sys.stdout.fileno()
            except (AttributeError, OSError, io.UnsupportedOperation):
                self._output = sys.stdout.buffer
            else:
                sys.stdout.flush()
                self._output = io.BufferedWriter(io.FileIO(descriptor, "wb", closefd=False), buffer_size=1 << 20)
                atexit.register(self._output.flush)
        return self._output

    def write_record(self, stream: str, record: dict[str, t.Any], time_extracted: str, version: int | None) -> None:
        """The hot path: the line `format_message` would write for this RECORD, without building a
        message; the bytes around the record change once per second at most."""
        key = (stream, version, time_extracted)
        if self._framing is None or self._framing[0] != key:
            head = b'{"type":"RECORD","stream":' + _ENCODER.encode(stream) + b',"record":'
            tail = (b',"version":%d' % version if version is not None else b"") + b',"time_extracted":'
            self._framing = key, head, tail + _ENCODER.encode(time_extracted) + b"}\n"
        _, head, tail = self._framing
        line = self._line
        line[:] = head
        _ENCODER.encode_into(record, line, len(head))
        line += tail
        self._stdout().write(line)

    @override
    def write_message(self, message: Message) -> None:
        output = self._stdout()
        output.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            output.flush()


def selected_properties(stream: Stream) -> frozenset[str] | None:
    """Top-level properties to keep, or None when the SDK's generic path is needed."""
    stream_maps = stream.stream_maps
    if (
        len(stream_maps) != 1
        or type(stream_maps[0]) is not SameRecordTransform
        or stream_maps[0].stream_alias != stream.name
        or stream_maps[0].flattening_enabled
    ):
        return None
    mask = stream.mask
    if any(not selected for breadcrumb, selected in mask.items() if len(breadcrumb) > 2):
        return None  # a nested property is deselected
    return frozenset(name for name in stream.schema["properties"] if mask[("properties", name)])


class ExtractionClock:
    """`time_extracted` for RECORD messages, formatted once per second rather than per record."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(second))
        return self._text


@contextmanager
def garbage_collection_for_records() -> Iterator[None]:
    """The garbage collector tuned for a stream of short-lived records.

    Parsed pages are trees, not cycles, yet each record allocates several containers, and
    CPython's default thresholds run a collection every 700 of them, each time walking the
    pages still being written and, from time to time, everything the imports left behind.
    Setting the start-up objects aside (`gc.freeze`) and collecting less often saves about a
    tenth of a run's CPU; cycles are still collected.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
