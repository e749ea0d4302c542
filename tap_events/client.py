"""The base stream of every provider: HTTP (http_client.py) and the record sink (record_sink.py)
wired together, with what is left: a page's records, timestamps made canonical, partitions that
are gone or fail, and the stop policies a stream's queries follow (`stop_policies`)."""

from __future__ import annotations

import typing as t
from functools import cached_property
from importlib.resources import files

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_events.concurrency import InBackground, chunked, flattened
from tap_events.errors import APIRequestError, PartitionNotFoundError
from tap_events.http_client import HTTPStream
from tap_events.partitions_ahead import Ahead, PartitionsAhead, partition_key
from tap_events.record_sink import RecordSink
from tap_events.responses import hand_out_records
from tap_events.stop_policies import QueryStops
from tap_events.timestamps import Precision, placed_timestamp

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    import requests
    from singer_sdk.helpers.types import Context

    from tap_events.stop_policies import StopPolicy

#: One JSON schema per stream, package data of tap_events (in a checkout and in the wheel alike).
SCHEMAS = SchemaDirectory(files("tap_events") / "schemas")


class TapEventsStream(HTTPStream, RecordSink):
    """What every stream of this tap shares, whatever the provider: requests, retries and errors
    (`HTTPStream`), the record loop and RECORD/BATCH writing (`RecordSink`), and the run's shared
    objects (`self.run`, run.py), handed over by the tap when it builds the stream."""

    schema = StreamSchema(SCHEMAS)
    #: Only these fields are normalised to one timestamp format (see `timestamp_precision`).
    timestamp_fields: t.ClassVar[tuple[str, ...]] = ()
    timestamp_precision: t.ClassVar[Precision] = "seconds"

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The page's records, held by nothing but the reader once taken (`hand_out_records`)."""
        return hand_out_records(response, self.records_key, self.replication_key)

    @cached_property
    def fields_normalized_in_post_process(self) -> tuple[str, ...]:
        return self.timestamp_fields

    @cached_property
    @override
    def post_processes(self) -> bool:
        """Whether `post_process` may change a record: not when it is this class's, with no field to normalise."""
        return type(self).post_process is not TapEventsStream.post_process or bool(
            self.fields_normalized_in_post_process
        )

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        for name in self.fields_normalized_in_post_process:
            if row.get(name):
                canonical = placed_timestamp(row[name], self.timestamp_precision)
                if canonical is None:
                    self.unparseable_timestamp(row, name, context)
                else:
                    row[name] = canonical
        return row

    #: WARNING lines about values that are no timestamp, per stream; the rest are counted only.
    UNPARSEABLE_WARNINGS: t.ClassVar[int] = 10
    _unparseable_warned = 0

    def unparseable_timestamp(self, row: dict, name: str, context: Context | None) -> None:
        """A timestamp field (not the replication key) that holds no timestamp: passed on as the API
        sent it (the record is placed by its replication key), named in a WARNING and counted. A
        field the API fills badly on every record is named `UNPARSEABLE_WARNINGS` times, then counted."""
        partition = self.describe_partition(context)
        self.run_report.unparseable_timestamp(self.name, partition)
        self._unparseable_warned += 1
        if self._unparseable_warned > self.UNPARSEABLE_WARNINGS:
            return
        self.logger.warning(
            "%s: %s: %s %s: %s %r is no timestamp: passed on as the API sent it%s",
            self.name,
            partition,
            self.primary_keys[0] if self.primary_keys else "record",
            row.get(self.primary_keys[0]) if self.primary_keys else "",
            name,
            str(row[name])[:80],
            " (more are counted in the run report, not named)"
            if self._unparseable_warned == self.UNPARSEABLE_WARNINGS
            else "",
        )

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: The partitions read next, read while this one is written (partitions_ahead.py).
        self.partitions_ahead = PartitionsAhead(self.max_concurrent_requests)
        self._upcoming: list[Context] = []
        self._upcoming_index: dict[tuple[tuple[str, t.Any], ...], int] = {}

    def set_upcoming(self, contexts: Sequence[Context]) -> None:
        """The partitions this stream reads next, in order (`ChildPartitionsTogether`): those
        after the one in hand are read ahead (partitions_ahead.py)."""
        self._upcoming = list(contexts)
        self._upcoming_index = {partition_key(context): index for index, context in enumerate(self._upcoming)}

    def following(self, context: Context | None) -> list[Context]:
        """The partitions after this one that may be read now (none with one request at a time);
        after the last one, what was read ahead for none is dropped."""
        if self.max_concurrent_requests <= 1:
            return []
        if not self._upcoming and self.parent_stream_type is None and self.partitions:
            self.set_upcoming(self.partitions)
        index = self._upcoming_index.get(partition_key(context))
        if index is None:
            return []
        if index == len(self._upcoming) - 1:
            self.partitions_ahead.close()
            return []
        return self._upcoming[index + 1 : index + 1 + self.max_concurrent_requests]

    def send_ahead(self, context: Context | None) -> None:
        """The next partitions (`set_upcoming`, or a top-level stream's own `partitions`), up to
        `max_concurrent_requests` of them, read while this one is written."""
        following = self.following(context)
        if following:
            self.partitions_ahead.send(following, self.start_ahead)

    def start_ahead(self, context: Context) -> Ahead | None:
        """A later list partition's pages, read now (None for one whose credential was refused)."""
        if self.run_report.refused(self.credential_of(context)):
            return None
        page_size = int(self.config.get("page_size", 1000))
        ahead = Ahead()
        ahead.items = InBackground(
            lambda stopped: chunked(self.request_records(context), page_size, stopped), 2, "partition-ahead"
        )
        return ahead

    def listed_records(self, context: Context | None) -> Iterator[dict]:
        """A list partition's records, read ahead if they were; the next partitions are read meanwhile."""
        ahead = self.partitions_ahead.take(context)
        self.send_ahead(context)
        if ahead is not None:
            return flattened(ahead.items)
        return iter(self.request_records(context))

    def partition_records(self, context: Context | None) -> Iterator[dict]:
        """Records of one partition; a partition deleted since it was listed is skipped, one that
        fails for good is reported and the others are still read."""
        if self.refused_earlier(context):
            self.partitions_ahead.drop(context)
            return
        written = 0  # list streams are small: counted per record, added once
        try:
            for record in self.listed_records(context):
                yield record
                written += 1  # after the yield: the SDK has written it
        except PartitionNotFoundError as exc:
            self.partition_deleted(context, exc)
        except APIRequestError as exc:
            self.partition_failed(context, exc)
        finally:
            self.run_report.records(self.name, self.describe_partition(context), written)

    # ---- partitions that fail -------------------------------------------------------------

    def partition_failed(self, context: Context | None, error: APIRequestError) -> None:
        """One ERROR line now, the partition named again when the run ends (non-zero); the other
        partitions are still read. The caller has made sure its STATE claims only what was read."""
        partition = self.describe_partition(context)
        report = self.run_report
        report.failure(self.name, partition, str(error))
        if error.status == 401:
            report.refuse(self.credential_of(context))
            report.skipped(self.name, partition, "refused")
        self.logger.error("%s could not be read, the run goes on without it: %s", partition, error)

    def partition_deleted(
        self, context: Context | None, error: PartitionNotFoundError, what: str = "a partition"
    ) -> None:
        """A WARNING, and the partition named as skipped in the closing report."""
        self.run_report.skipped(self.name, self.describe_partition(context), "deleted")
        self.logger.warning("%s: skipping %s that no longer exists: %s", self.name, what, error)

    def refused_earlier(self, context: Context | None) -> bool:
        """A credential refused earlier in the run is not sent again: one ERROR line per credential,
        and the partition is still named at the end."""
        if not self.run_report.refused(self.credential_of(context)):
            return False
        partition = self.describe_partition(context)
        self.run_report.failure(self.name, partition, "credentials refused earlier in the run")
        self.run_report.skipped(self.name, partition, "refused")
        self.logger.info("%s: skipping %s, whose credentials were refused earlier in the run", self.name, partition)
        return True

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        yield from self.partition_records(context)

    # ---- paging: what ends a query before its last page --------------------------------------

    def stop_policies(self) -> list[StopPolicy]:
        """The stop policies of this stream's queries, in the order they are asked (stop_policies.py)."""
        return []

    @cached_property
    def query_stops(self) -> QueryStops:
        """This stream's stop policies, for its paginator."""
        return QueryStops(self.stop_policies())
