"""The per-record hot path: RECORD messages without the SDK's generic per-record work.

The SDK conforms every value recursively against the schema and walks every record for
deselected properties; records parsed from JSON need neither. When the catalog selects whole
top-level properties and no stream map or flattening is configured, a record is projected on
its selected properties and written as is; otherwise the SDK's own path runs.
"""

from __future__ import annotations

import atexit
import errno
import gc
import io
import itertools
import json
import os
import sys
import threading
import time
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.contrib.msgspec import encoder as _ENCODER
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage, StateMessage
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

#: Whatever orjson would encode otherwise than the SDK's msgspec encoder is handed to the latter.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


class TargetStoppedReading(BaseException):
    """The target closed its input (it exited mid-run): nothing the tap writes can arrive any more.

    A BaseException, as SystemExit is, so that it passes the SDK's per-stream `except Exception`
    (which would log it as an unhandled error) and every worker stops with the run; `TapEvents.invoke`
    says so in one line and exits non-zero.
    """


class _ToTarget:
    """The tap's stdout, where a broken pipe (the target has gone) is `TargetStoppedReading`."""

    def __init__(self, output: t.Any) -> None:
        self._output = output

    def write(self, data: bytes) -> None:
        try:
            self._output.write(data)
        except OSError as exc:
            _stopped_reading(exc)

    def flush(self) -> None:
        try:
            self._output.flush()
        except OSError as exc:
            _stopped_reading(exc)


def _stopped_reading(exc: OSError) -> t.NoReturn:
    if isinstance(exc, BrokenPipeError) or exc.errno in (errno.EPIPE, errno.ECONNRESET):
        raise TargetStoppedReading(str(exc)) from None
    raise exc


def silence_stdout() -> None:
    """After the target has gone: what is still buffered for stdout goes nowhere, quietly (at exit
    too), instead of a broken pipe error per buffer."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    finally:
        os.close(devnull)


class EventsWriter(MsgSpecWriter):
    """msgspec encoding into a 1 MiB stdout buffer, flushed at every message but RECORD: a STATE
    line always reaches the target together with every record written before it, and a run
    killed between two STATE lines loses only records that the last STATE does not claim."""

    _stdout_seen: t.Any = None
    _output: t.Any = None
    #: Bytes of RECORD lines written, of the last STATE line, and of RECORD lines when it was
    #: written: what `state_pacing.StatePacing` weighs a STATE against.
    record_bytes = 0
    last_state_bytes = 0
    record_bytes_at_last_state = 0

    def output(self) -> t.Any:
        """A 1 MiB buffer on the process's stdout; the stream itself when stdout was redirected
        to something without a file descriptor (as test runners do)."""
        if sys.stdout is not self._stdout_seen:
            if self._output is not None:
                self._output.flush()
            self._stdout_seen = sys.stdout
            try:
                descriptor = sys.stdout.fileno()
            except (AttributeError, OSError, io.UnsupportedOperation):
                self._output = _ToTarget(sys.stdout.buffer)
            else:
                sys.stdout.flush()
                buffered = io.BufferedWriter(io.FileIO(descriptor, "wb", closefd=False), buffer_size=1 << 20)
                self._output = _ToTarget(buffered)
                atexit.register(buffered.flush)
        return self._output

    _writing = False
    _deferred: t.Callable[[], None] | None = None

    @override
    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        self.write_whole(line, flush=not isinstance(message, RecordMessage))
        # What STATE's pacing compares (state_pacing.py): RECORD bytes written, the last STATE's size.
        if isinstance(message, RecordMessage):
            self.record_bytes += len(line)
        elif isinstance(message, StateMessage):
            self.last_state_bytes, self.record_bytes_at_last_state = len(line), self.record_bytes

    def write_whole(self, data: bytes | bytearray, *, flush: bool = False) -> None:
        """Whole lines in one write. A signal handler runs in the main thread between two of its
        bytecodes, inside a blocked write too: one that wrote a line there (the SDK's STATE at
        SIGTERM) would put it inside this one, or fail on the buffer's reentrant call, so it
        waits for the write (`defer_while_writing`) and runs right after it."""
        if threading.current_thread() is not threading.main_thread():  # no signal handler runs there
            self._write(data, flush)
            return
        self._writing = True
        try:
            self._write(data, flush)
        finally:
            self._writing = False
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred()

    def _write(self, data: bytes | bytearray, flush: bool) -> None:
        output = self.output()
        output.write(data)
        if flush:
            output.flush()

    def defer_while_writing(self, action: t.Callable[[], None]) -> bool:
        """For a signal handler: whether the main thread is inside a write, `action` then being
        kept to run right after it."""
        if self._writing:
            self._deferred = action
        return self._writing


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


class RecordLines:
    """The RECORD lines of one stream, as `EventsWriter.format_message` would write them, without
    building a message per record: a page's records are projected on the selected properties and
    encoded between bytes made again once per second (`time_extracted`), or when the stream's
    version changes, and written in one call.

    orjson encodes a record twice as fast as msgspec; whatever it would encode otherwise than
    the SDK's msgspec encoder, or not at all (dates, decimals, bytes, integers over 64 bits),
    is handed to the latter, so that every line is the one the SDK's writer would have written.
    """

    def __init__(self, writer: EventsWriter, stream: str, keep: frozenset[str]) -> None:
        self.writer = writer
        self.keep = keep
        self._stream = _ENCODER.encode(stream)
        self._renew_at = 0.0
        self._version: int | None = None
        self._head = self._tail = self._between = b""

    def _frame(self, now: float, version: int | None) -> None:
        second = int(now)
        self._renew_at, self._version = second + 1.0, version
        extracted = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(second))
        self._head = b'{"type":"RECORD","stream":' + self._stream + b',"record":'
        self._tail = (
            (b',"version":%d' % version if version is not None else b"")
            + b',"time_extracted":'
            + _ENCODER.encode(extracted)
            + b"}\n"
        )
        self._between = self._tail + self._head

    def write(self, records: list[dict[str, t.Any]], version: int | None) -> None:
        """One line per record, written at once (a page: one clock read, one write)."""
        if not records:
            return
        now = time.time()
        if now >= self._renew_at or version != self._version:
            self._frame(now, version)
        keep = self.keep
        if all(map(keep.issuperset, records)):
            # orjson gives every record the same key objects: a set holding those very objects
            # finds them by identity, without comparing strings (a few percent of a record's CPU).
            self.keep = frozenset(records[-1]).union(keep)
        else:
            records = [
                record if keep.issuperset(record) else {name: value for name, value in record.items() if name in keep}
                for record in records
            ]
        try:
            # orjson.dumps(record, default, option) mapped in C: no interpreter loop per record.
            bodies = list(map(orjson.dumps, records, itertools.repeat(None), itertools.repeat(_ORJSON_OPTIONS)))
        except orjson.JSONEncodeError:
            bodies = [_encoded(record) for record in records]
        # The page's lines in one piece, copied once, in one write (a signal waits for it whole).
        bodies[0] = self._head + bodies[0]
        bodies[-1] += self._tail
        data = self._between.join(bodies)
        self.writer.write_whole(data)
        self.writer.record_bytes += len(data)


def _encoded(record: dict[str, t.Any]) -> bytes:
    try:
        return orjson.dumps(record, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        pass
    try:
        return _ENCODER.encode(record)
    except (UnicodeEncodeError, OverflowError):  # a lone surrogate, as sent (responses.py); an integer over 64 bits
        return json.dumps(record, separators=(",", ":"), default=str).encode()


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
