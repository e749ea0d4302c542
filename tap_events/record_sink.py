"""The record sink of every stream: the SDK's record loop a page at a time, RECORD and BATCH writing.

`RecordSink` is a mixin on the SDK's `Stream`: what it writes goes to the run's writer
(`self.run.writer`, output.py) and, in BATCH mode, its STATE through the run's `StateGate`
(batches.py). A stream gives it pages (`get_record_pages`); it adds the partition keys, writes
each page's RECORD lines at once, moves the bookmark and writes STATE as the SDK's loop would.
The private SDK hooks it overrides are listed in docs/architecture.md.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream
from singer_sdk.batch import Batcher
from typing_extensions import override

from tap_events.output import EventsWriter, RecordLines, selected_properties

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_events.run import RunContext


class RecordSink(Stream):
    """RECORD/BATCH writing and the record loop, for a stream that holds the run (`self.run`)."""

    run: RunContext

    @cached_property
    def _record_writer(self) -> tuple[EventsWriter, frozenset[str]] | None:
        """The writer and the properties to keep, when a record needs nothing but projection."""
        writer, keep = self.run.writer, selected_properties(self)
        return (writer, keep) if isinstance(writer, EventsWriter) and keep is not None else None

    @cached_property
    def _record_lines(self) -> RecordLines | None:
        """The fast path's RECORD lines (output.py), when a record needs nothing but projection."""
        if self._record_writer is None:
            return None
        writer, keep = self._record_writer
        return RecordLines(writer, self.name, keep)

    @override
    def _process_record(
        self, record: dict, child_context: Context | None = None, partition_context: Context | None = None
    ) -> None:
        """Hot path: a stream without child streams only needs its partition keys in the record."""
        if self.child_streams:
            super()._process_record(record, child_context=child_context, partition_context=partition_context)
            return
        for key, value in (partition_context or {}).items():
            record.setdefault(key, value)

    @override
    def _write_record_message(self, record: dict) -> None:
        """Overrides the SDK's per-record path when nothing but projection is needed (output.py)."""
        lines = self._record_lines
        if lines is None:
            super()._write_record_message(record)
            return
        lines.write([record], self._stream_version)
        self.state_manager.is_flushed = False

    #: Whether the SDK's bookmark follows each record written (`_increment_stream_state`); not
    #: where a stream moves it over whole windows itself (`UnsortedWindowStream`).
    bookmark_follows_each_record: t.ClassVar[bool] = True

    def get_record_pages(self, context: Context | None) -> Iterator[list[dict]]:
        """`get_records` a page at a time, for `_sync_records`: a page is written before the next
        is asked for. A stream that reads records one by one gives pages of one."""
        for record in self.get_records(context):
            # The SDK's type allows (record, child context) tuples, deprecated; no stream here yields one.
            yield [t.cast("dict", record)]

    @override
    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict, t.Any, t.Any]:
        """The SDK's loop (singer-sdk 0.54's, step for step), a page at a time on the fast path.

        Per record, the SDK's loop calls six methods, of which the dry-run limit, the child
        context and a clock read for the METRIC count do nothing here. This loop takes a page
        (`get_record_pages`), writes its lines at once (`RecordLines.write`), moves the bookmark
        over it where it follows each record, and writes STATE as the SDK would, after the page.
        BATCH, stream maps, child streams and `--test` (a record limit) take the SDK's loop.
        """
        lines = self._record_lines
        if (
            not write_messages
            or lines is None
            or self.child_streams
            or not self.selected
            or self.ABORT_AT_RECORD_COUNT is not None
        ):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        record_counter, timer = self.get_record_counter(), self.get_sync_timer()
        state_manager = self.state_manager
        post_process = self.post_process if self.post_processes else None
        state_every = self.STATE_MSG_FREQUENCY
        records_written = 0
        with record_counter, timer:
            for context_element in ([context] if context is not None else self.partitions) or [{}]:
                record_counter.with_context(context_element)
                timer.with_context(context_element)
                current_context = context_element or None
                state_partition_context = self._get_state_partition_context(current_context)
                self._write_starting_replication_value(current_context)
                partition_keys = tuple((state_partition_context or {}).items())
                for page in self.get_record_pages(current_context):
                    if post_process is not None:
                        page = [record for raw in page if (record := post_process(raw, current_context)) is not None]
                    for key, value in partition_keys:
                        for record in page:
                            record.setdefault(key, value)
                    lines.write(page, self._stream_version)
                    state_manager.is_flushed = False
                    if self.bookmark_follows_each_record:
                        for record in page:
                            self._increment_stream_state(record, context=current_context)
                    before, records_written = records_written, records_written + len(page)
                    if records_written // state_every > before // state_every:
                        self._write_state_message()
                    record_counter.increment(len(page))
                    yield from page
                if current_context == state_partition_context:
                    self._finalize_state(self.get_context_state(current_context))
        if not context:
            self._finalize_state(self.stream_state)
        # The end of a stream writes STATE; the end of one partition of a child stream (the
        # parent syncs it once per partition) only when one is due (state_pacing.py).
        if context is None or self.run.state_pacing.due():
            self._write_state_message()

    @override
    def _sync_batches(self, batch_config: BatchConfig, context: Context | None = None) -> None:
        """The SDK's loop, with STATE held while a batch is filled and written after its BATCH
        message, never before (batches.py)."""
        gate = self.run.state_gate
        with self.get_batch_counter() as counter:
            with gate.filling_batches():
                for encoding, manifest in self.get_batches(batch_config, context):
                    counter.increment()
                    self._write_batch_message(encoding=encoding, manifest=manifest)
                    gate.write_after_batch(self.tap_state)
            gate.write_after_batch(self.tap_state)  # every record read is in a batch
            self.state_manager.is_flushed = True

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """The SDK's batcher, fed each record as a RECORD message would carry it: the SDK alone
        would batch raw records, deselected properties and all."""
        batcher = Batcher(tap_name=self.tap_name, stream_name=self.name, batch_config=batch_config)
        records = self.records_as_written(self._sync_records(context, write_messages=False))
        for manifest in batcher.get_batches(records=records):
            yield batch_config.encoding, manifest

    def records_as_written(self, records: Iterable[dict]) -> Iterator[dict]:
        """What `_write_record_message` writes of each record: projected on the selected
        properties, or through the SDK's deselection, conformance and this stream's map."""
        if self._record_writer is not None:
            _, keep = self._record_writer
            for record in records:
                yield (
                    record
                    if keep.issuperset(record)
                    else {name: value for name, value in record.items() if name in keep}
                )
            return
        alias = self.stream_maps[0].stream_alias
        for record in records:
            for message in self._generate_record_messages(record):
                if message.stream == alias:
                    yield message.record

    @cached_property
    def post_processes(self) -> bool:
        """Whether `post_process` may change a record: the loop skips the call when it cannot."""
        return type(self).post_process is not Stream.post_process
