"""Base streams, one per provider: auth, base URL, error handling, retries and time windows."""

from __future__ import annotations

import base64
import collections
import datetime as dt
import email.utils
import functools
import logging
import random
import typing as t
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import backoff
import orjson
import requests
from requests.auth import AuthBase
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema
from singer_sdk.batch import Batcher
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_events.batches import StateGate
from tap_events.output import EventsWriter, ExtractionClock, selected_properties
from tap_events.prefetch import WholeWindows, read_as_ready
from tap_events.timestamps import (
    ceil_second,
    floor_second,
    format_timestamp,
    normalize_timestamp,
    parse_timestamp,
    utc_now,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    from backoff.types import Details
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_events.report import RunReport
    from tap_events.tap import TapEvents

_BODY_ATTRIBUTE = "_tap_events_body"
_CONTEXT_ATTRIBUTE = "_tap_events_context"
#: How far back a first run reads when `start_date` is not set.
DEFAULT_HISTORY = dt.timedelta(days=30)
#: Windows start this much after the oldest moment an API keeps, so that a query sent a few
#: minutes later is still inside it (records that old are about to disappear anyway).
RETENTION_MARGIN = dt.timedelta(minutes=5)
#: State key of a windowed partition: everything before it was read (windows read whole), whether
#: or not it held records. The bookmark alone cannot say so: a quiet partition's stays old.
READ_THROUGH = "read_through"
#: Context keys that name a partition, in the order a partition is described.
PARTITION_KEYS = (
    ("account_sid", "account"),
    ("workspace_sid", "workspace"),
    ("service_sid", "service"),
    ("environment_sid", "environment"),
)
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: How the SDK's `request_records` starts its line about a page without records.
EMPTY_PAGE_MESSAGE = "Pagination stopped after"


def _schema_directory() -> Path | t.Any:
    """Schemas ship inside the wheel as tap_events/schemas; a checkout keeps them at the top."""
    packaged = files("tap_events") / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


SCHEMAS = SchemaDirectory(_schema_directory())


class _UnsortedWarningFilter(logging.Filter):
    """Windowed streams are unsorted inside a window but promote progress at every window
    boundary, so the SDK's 'progress is not resumable' warning is not true for them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Stream is assumed to be unsorted")


logging.getLogger("singer_sdk").addFilter(_UnsortedWarningFilter())


class APIRequestError(FatalAPIError):
    """A request the API refused for good: the message names stream, endpoint, status and code.

    It ends the partition being read, not the run (`TapEventsStream.partition_failed`).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        #: The HTTP status, when the API answered: a 401 refuses the credential for the whole run.
        self.status = status


class PartitionNotFoundError(FatalAPIError):
    """A parent resource (workspace, service, environment) disappeared between listing and read."""


class ResultCapReached(APIRequestError):
    """A query reached the API's per-query result cap: its window must be read in smaller pieces."""


class ResultCapError(APIRequestError):
    """A window still reaches the per-query result cap and cannot be split any further."""


def response_body(response: requests.Response) -> t.Any:
    """The JSON body, parsed once while the response was validated."""
    if _BODY_ATTRIBUTE not in response.__dict__:
        response.__dict__[_BODY_ATTRIBUTE] = orjson.loads(response.content)
    return response.__dict__[_BODY_ATTRIBUTE]


def response_context(response: requests.Response) -> Context:
    """The context (partition and window) of the request this response answers."""
    return t.cast("Context", response.__dict__.get(_CONTEXT_ATTRIBUTE) or {})


@dataclass
class QueryPages:
    """What the pages of one query have shown so far."""

    #: Records served by the pages read.
    served: int = 0
    #: The oldest replication value of the pages read, while they came newest first.
    oldest: str | None = None
    #: False once a page broke newest-first order: no early stop may be guessed after that.
    in_order: bool = True


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` as seconds or an HTTP date."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - utc_now()).total_seconds())


def origin(url: str) -> tuple[str, str]:
    """Scheme and host:port: the only place credentials may be sent."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{(parts.hostname or '').lower()}:{port}"


class NextPageUrlPaginator(BaseAPIPaginator[str | None]):
    """Follows Twilio's absolute `meta.next_page_url` as given, refusing other hosts and cycles.

    The SDK's own loop check only catches the same token twice in a row; a server that sends
    us back to any earlier page would otherwise page forever.
    """

    def __init__(
        self,
        allowed_origin: tuple[str, str],
        describe: Callable[[], str],
        last_page: Callable[[requests.Response, QueryPages, bool], bool] | None = None,
    ) -> None:
        super().__init__(None)
        self._allowed_origin = allowed_origin
        self._describe = describe
        self._seen: set[str] = set()
        #: Asked after every page whether it ends the query early (it may raise ResultCapReached).
        self._last_page = last_page
        self.pages = QueryPages()

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page is not the end while it links to a next one (Serverless Logs do this)."""
        return bool((response_body(response).get("meta") or {}).get("next_page_url"))

    def get_next(self, response: requests.Response) -> str | None:
        meta = response_body(response).get("meta") or {}
        next_page_url = meta.get("next_page_url")
        if self._last_page is not None and self._last_page(response, self.pages, bool(next_page_url)):
            return None
        if not next_page_url:
            return None
        if origin(next_page_url) != self._allowed_origin:
            scheme, host = origin(next_page_url)
            msg = (
                f"{self._describe()}: refusing to follow next_page_url to {scheme}://{host}, "
                "which is not the configured base URL; no credentials were sent there."
            )
            raise APIRequestError(msg)
        if next_page_url in self._seen or next_page_url == response.request.url:
            msg = f"{self._describe()}: pagination cycle: next_page_url {next_page_url} points at a page already read."
            raise APIRequestError(msg)
        self._seen.add(next_page_url)
        return str(next_page_url)


class TapEventsStream(RESTStream[t.Any]):
    """What every stream of this tap shares, whatever the provider.

    Responses are parsed and checked inside the retried request, so that a 200 with a
    truncated body is retried like a 5xx instead of being half-read. Requests only ever go
    to the configured base URL's origin, and redirects are not followed.
    """

    provider: t.ClassVar[str]
    base_url_setting: t.ClassVar[str]
    #: What a 401/403 says about the credential, never the credential itself.
    credential_hint: t.ClassVar[str] = "the credentials were refused"
    schema = StreamSchema(SCHEMAS)
    allow_redirects = False
    #: Retries of one request give up after `max_request_retries` or this long, whichever first.
    max_retry_seconds: t.ClassVar[float] = 900.0
    backoff_factor: t.ClassVar[float] = 1.0
    #: Only these fields are normalised to one timestamp format (see `timestamp_precision`).
    timestamp_fields: t.ClassVar[tuple[str, ...]] = ()
    timestamp_precision: t.ClassVar[str] = "seconds"
    #: How a stream without partitions is named in warnings and the run report.
    unpartitioned: t.ClassVar[str] = "the whole stream"

    def describe_partition(self, context: Context | None) -> str:
        """`account AC…, workspace WS…`: the partition as warnings and the run report name it."""
        named = [f"{label} {context[key]}" for key, label in PARTITION_KEYS if context and context.get(key)]
        return ", ".join(named) or self.unpartitioned

    @override
    def log(self, message: str, *args: t.Any, level: int = logging.INFO, **kwargs: t.Any) -> None:
        """A time window or parent with no records is routine here, not news: the SDK's line for
        an empty page goes to DEBUG (a month's backfill would print one per empty window)."""
        if message.startswith(EMPTY_PAGE_MESSAGE):
            level = min(level, logging.DEBUG)
        super().log(message, *args, level=level, **kwargs)

    @property
    def timeout(self) -> int:
        """Seconds to wait for the server to connect, and for each read of its answer."""
        return int(self.config.get("request_timeout_seconds", 60))

    @property
    def url_base(self) -> str:
        return str(self.config[self.base_url_setting]).rstrip("/")

    @property
    def endpoint(self) -> str:
        return f"{self.url_base}{self.path}"

    # ---- requests and errors -------------------------------------------------------------

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        next_page_url = page.next_page_token
        if isinstance(next_page_url, str) and "://" in next_page_url:
            # Send the server's own next-page URL verbatim: re-appending our params breaks it.
            return HTTPRequest(url=next_page_url, method="GET", headers=self.http_headers)
        return super().get_http_request(page=page)

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retry transient failures with backoff; once retries are spent, fail with a clear message."""
        retried = backoff.on_exception(
            self.retry_wait_generator,
            (
                ConnectionError,
                RetriableAPIError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=self.config.get("max_request_retries", 8) + 1,
            max_time=self.max_retry_seconds,
            jitter=None,
            on_backoff=self.backoff_handler,
            logger=None,
        )(func)

        def request(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            try:
                response = t.cast("requests.Response", retried(prepared_request, context))
                response.__dict__[_CONTEXT_ATTRIBUTE] = context  # for `last_page`
                return response
            except RetriableAPIError as exc:
                raise APIRequestError(f"{exc}; gave up after retrying") from exc
            except (ValueError, UnicodeError) as exc:  # e.g. a header value http.client refuses
                msg = f"{self.name}: GET {self.endpoint}: the request could not be built ({type(exc).__name__})"
                raise APIRequestError(msg) from None
            except (ConnectionError, requests.exceptions.RequestException) as exc:
                msg = f"{self.name}: GET {prepared_request.url} failed after retrying: {type(exc).__name__}: {exc}"
                raise APIRequestError(msg) from exc

        return request

    def retry_wait_generator(self) -> Generator[float, t.Any, None]:
        """Exponential backoff with jitter, stretched to honour `Retry-After` on 429/503."""
        attempt = 0
        exception = yield 0.0
        while True:
            delay = min(60.0, self.backoff_factor * 2**attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            asked = retry_after_seconds(getattr(exception, "response", None))
            exception = yield max(delay, asked) if asked is not None else delay

    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        cause = f"HTTP {response.status_code}" if isinstance(response, requests.Response) else type(exception).__name__
        self.logger.warning(
            "%s: %s on GET %s; retry %d in %.1f s",
            self.name,
            cause,
            self.endpoint,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status in RETRYABLE_STATUSES or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status == 404 and self.context and self.partition_path_keys:
            raise PartitionNotFoundError(self.response_error_message(response))
        if self.refuses_for_result_cap(response):
            raise ResultCapReached(self.response_error_message(response))
        if status >= 300:
            raise APIRequestError(self.response_error_message(response), status=status)
        try:
            body = response_body(response)
        except orjson.JSONDecodeError as exc:
            request = self.request_line(response)
            msg = f"{self.name}: {request} answered HTTP {status} with a body that is not JSON ({exc})"
            raise RetriableAPIError(msg, response) from exc
        if not isinstance(body, dict) or not isinstance(body.get(self.records_key), list):
            # A proxy or maintenance page that answers 200: retried, never read as "no records".
            msg = (
                f"{self.name}: {self.request_line(response)} answered HTTP {status} without a list "
                f"of records under {self.records_key!r}"
            )
            raise RetriableAPIError(msg, response)

    def api_error(self, response: requests.Response) -> tuple[str | None, str | None]:
        """The provider's error code and message, from its error JSON."""
        return None, None

    def refuses_for_result_cap(self, response: requests.Response) -> bool:
        """Whether this error answer means "the query reaches past the result cap: ask for less"."""
        return False

    def last_page(self, response: requests.Response, pages: QueryPages, has_next: bool) -> bool:
        """Whether the query needs no page after this one, though the API links one."""
        return False

    def request_line(self, response: requests.Response) -> str:
        parts = urlsplit(response.url or self.endpoint)
        return f"GET {parts.scheme}://{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def response_error_message(self, response: requests.Response) -> str:
        status = response.status_code
        code, detail = self.api_error(response)
        error = f"{self.provider} error {code}" if code is not None else f"no {self.provider} error code"
        if detail:
            error += f": {detail}"
        request = self.request_line(response)
        if status in (401, 403):
            lead = f"authentication failed for {self.provider}, {self.credential_hint}"
        elif 300 <= status < 400:
            lead = "unexpected redirect, not followed"
        else:
            lead = "request failed"
        return f"{self.name}: {lead}: {request} answered HTTP {status} ({error})"

    # ---- records ----------------------------------------------------------------------------

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        yield from response_body(response)[self.records_key]

    @cached_property
    def _record_writer(self) -> tuple[EventsWriter, frozenset[str]] | None:
        """The writer and the properties to keep, when a record needs nothing but projection."""
        writer, keep = self._tap.message_writer, selected_properties(self)
        return (writer, keep) if isinstance(writer, EventsWriter) and keep is not None else None

    @cached_property
    def _clock(self) -> ExtractionClock:
        return ExtractionClock()

    def _process_record(
        self, record: dict, child_context: Context | None = None, partition_context: Context | None = None
    ) -> None:
        """Hot path: a stream without child streams only needs its partition keys in the record."""
        if self.child_streams:
            super()._process_record(record, child_context=child_context, partition_context=partition_context)
            return
        for key, value in (partition_context or {}).items():
            record.setdefault(key, value)

    def _write_record_message(self, record: dict) -> None:
        """Overrides the SDK's per-record path when nothing but projection is needed (output.py)."""
        if self._record_writer is None:
            super()._write_record_message(record)
            return
        writer, keep = self._record_writer
        if not keep.issuperset(record):
            record = {name: value for name, value in record.items() if name in keep}
        writer.write_record(self.name, record, self._clock.now(), self._stream_version)
        self.state_manager.is_flushed = False

    @override
    def _sync_batches(self, batch_config: BatchConfig, context: Context | None = None) -> None:
        """The SDK's loop, with STATE held while a batch is filled and written after its BATCH
        message, never before (batches.py)."""
        gate = t.cast("StateGate", self._tap.state_writer)
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

    records_key: t.ClassVar[str] = "data"

    @cached_property
    def fields_normalized_in_post_process(self) -> tuple[str, ...]:
        return self.timestamp_fields

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        for name in self.fields_normalized_in_post_process:
            if row.get(name):
                row[name] = normalize_timestamp(row[name], self.timestamp_precision)
        return row

    #: Context keys that identify a parent resource in the URL; a 404 on them means it is gone.
    partition_path_keys: t.ClassVar[tuple[str, ...]] = ()

    def request_partition(self, context: Context | None) -> Iterator[dict]:
        """Records of one partition; a partition deleted since it was listed is skipped, one that
        fails for good is reported and the others are still read."""
        if self.refused_earlier(context):
            return
        try:
            yield from self.request_records(context)
        except PartitionNotFoundError as exc:
            self.logger.warning("%s: skipping a partition that no longer exists: %s", self.name, exc)
        except APIRequestError as exc:
            self.partition_failed(context, exc)

    # ---- partitions that fail -------------------------------------------------------------

    @property
    def run_report(self) -> RunReport:
        """The partitions this run could not read, named again when it ends."""
        return t.cast("TapEvents", self._tap).run_report

    def credential_of(self, context: Context | None) -> str:
        """Whose credential reads the partition: once refused (401), none of its partitions is tried again."""
        return self.provider

    def partition_failed(self, context: Context | None, error: APIRequestError) -> None:
        """One ERROR line now, the partition named again when the run ends (non-zero); the other
        partitions are still read. The caller has made sure its STATE claims only what was read."""
        partition = self.describe_partition(context)
        report = self.run_report
        report.failure(self.name, partition, str(error))
        if error.status == 401:
            report.refuse(self.credential_of(context))
        self.logger.error("%s could not be read, the run goes on without it: %s", partition, error)

    def refused_earlier(self, context: Context | None) -> bool:
        """A credential refused earlier in the run is not sent again: one ERROR line per credential,
        and the partition is still named at the end."""
        if not self.run_report.refused(self.credential_of(context)):
            return False
        partition = self.describe_partition(context)
        self.run_report.failure(self.name, partition, "credentials refused earlier in the run")
        self.logger.info("%s: skipping %s, whose credentials were refused earlier in the run", self.name, partition)
        return True

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        yield from self.request_partition(context)


def merge_ranges(ranges: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Ranges that touch or overlap joined into one, oldest first."""
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif start < end:
            merged.append((start, end))
    return merged


class WindowProgress:
    """The newest replication value of each window, and which windows are whole.

    Windows are read concurrently and finish in any order, but a run resumes after its
    bookmark, so the bookmark may only cover the windows that are all whole from the first on.
    """

    def __init__(self) -> None:
        self.newest: dict[int, str] = {}
        self.whole = WholeWindows()

    def note(self, index: int, value: str) -> None:
        if value > self.newest.get(index, ""):
            self.newest[index] = value

    def finish(self, index: int) -> tuple[bool, str | None]:
        """Window `index` is whole: whether the covered windows grew, and their newest value."""
        covered = self.whole.add(index)
        values = [self.newest.pop(covered_index) for covered_index in covered if covered_index in self.newest]
        return bool(covered), max(values, default=None)


class TimeWindowStream(TapEventsStream):
    """Incremental reading in non-overlapping time windows, up to `max_concurrent_requests` at once.

    The APIs return newest first (or in no reliable order), so a window is unsorted, and records
    are written as pages arrive, whichever window they belong to. The bookmark moves only over
    windows that are whole, from the oldest on (`WindowProgress`): a run killed at any moment
    resumes from there, and re-reads a window that was not whole. Records outside
    [window start, window end) are dropped here, because some filters are day-granular.
    """

    is_sorted = False
    #: How long one request window spans; windows start on multiples of it from midnight UTC.
    window_size: t.ClassVar[dt.timedelta] = dt.timedelta(days=1)
    #: How far back the API keeps data (the shortest documented, where editions differ).
    retention: t.ClassVar[dt.timedelta | None] = None
    #: True where the documented retention is firm: windows start inside it (with a margin).
    #: False where data may be kept longer (or it is not documented): the old windows are asked
    #: for, and one the API refuses for being too old is a range it no longer keeps.
    clamp_to_retention: t.ClassVar[bool] = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_started_at = utc_now()
        self._retention_noted = False

    @cached_property
    def fields_normalized_in_post_process(self) -> tuple[str, ...]:
        """All but the replication key, which `get_records` normalises to compare it with the window."""
        return tuple(name for name in self.timestamp_fields if name != self.replication_key)

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """Unsorted windows keep their newest value in `get_records` and promote it in `commit_windows`."""
        if self.is_sorted:
            super()._increment_stream_state(latest_record, context=context)

    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """Records are already bounded by the run's end (`sync_end`), so no signpost is needed."""
        return

    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        """Query parameters that select [start, end) (or the days that contain it)."""
        raise NotImplementedError

    @property
    def query_lead(self) -> dt.timedelta:
        """How long before a window its query must start to return every record of it."""
        return dt.timedelta(0)

    def query_range(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """What a query must select on the API's filter field to return every record of [start, end)."""
        return start - self.query_lead, end

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        assert context is not None
        return {
            **self.window_params(context["query_start"], context["query_end"]),
            **self.page_params(next_page_token),
        }

    def page_params(self, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"PageSize": self.config["page_size"]}

    def bookmark(self, context: Context | None) -> dt.datetime | None:
        value = self.get_context_state(context).get("replication_key_value")
        return parse_timestamp(value) if value else None

    def sync_start(self, context: Context | None) -> dt.datetime:
        configured = self.config.get("start_date")
        bookmark = self.bookmark(context)
        if bookmark is None:
            start = parse_timestamp(configured) if configured else self.run_started_at - DEFAULT_HISTORY
        else:
            # The default history bounds a first run only: a run resumes from its bookmark, however old.
            start = bookmark - dt.timedelta(minutes=self.config["lookback_window_minutes"])
            if configured:
                start = max(start, parse_timestamp(configured))
        oldest = self.oldest_kept()
        if oldest is None or start >= oldest:
            return start
        if not self.clamp_to_retention:
            self.note_retention_once(
                logging.WARNING,
                "%s: the API may keep only %d days and start %s is older: the older windows are asked "
                "for (a window refused as too old is skipped), and older records may be missing at the source",
                format_timestamp(start),
            )
            return start
        if bookmark is None:
            self.note_retention_once(
                logging.INFO,
                "%s: the API keeps about %d days of data; starting at %s instead of %s",
                format_timestamp(oldest),
                format_timestamp(start),
            )
        else:
            self.report_unreadable(context, [(start, min(oldest, self.sync_end()))], self.read_before(context))
        return oldest

    def oldest_kept(self) -> dt.datetime | None:
        """Where a window may start and still be inside the retention when its query is sent.

        From the present, not the run's start: a partition may begin long after the run did.
        """
        return None if self.retention is None else utc_now() - self.retention + RETENTION_MARGIN

    def note_retention_once(self, level: int, message: str, *args: t.Any) -> None:
        """Once per stream, not once per partition: the start is the same for every partition."""
        if not self._retention_noted and self.retention is not None:
            self._retention_noted = True
            self.logger.log(level, message, self.name, round(self.retention / dt.timedelta(days=1)), *args)

    def read_before(self, context: Context | None) -> dt.datetime | None:
        """How far earlier runs read this partition (None: never): `READ_THROUGH`, or in a state
        written before it existed, the bookmark."""
        value = self.get_context_state(context).get(READ_THROUGH)
        return parse_timestamp(value) if value else self.bookmark(context)

    def note_read_through(self, context: Context | None, value: dt.datetime) -> None:
        """Windows up to `value` are whole; written with the next STATE. Never moves back."""
        state = self.get_context_state(context)
        previous = state.get(READ_THROUGH)
        if not previous or value > parse_timestamp(previous):
            state[READ_THROUGH] = format_timestamp(value)

    def report_unreadable(
        self,
        context: Context | None,
        ranges: Iterable[tuple[dt.datetime, dt.datetime]],
        read_before: dt.datetime | None,
    ) -> None:
        """The parts after `read_before` of ranges the source no longer keeps: a gap in what was
        loaded. One WARNING for the partition, and each range in the run report."""
        if read_before is None:
            return
        merged = merge_ranges((max(start, read_before), end) for start, end in ranges)
        if not merged:
            return
        partition = self.describe_partition(context)
        for start, end in merged:
            self._tap.run_report.gap(self.name, partition, start, end)  # type: ignore[attr-defined]
        self.logger.warning(
            "%s: %s: last read up to %s, longer ago than the API keeps data: the events from %s can no "
            "longer be read and are missing from the destination",
            self.name,
            partition,
            format_timestamp(read_before),
            "; ".join(f"{format_timestamp(start)} to {format_timestamp(end)}" for start, end in merged),
        )

    def read_window(self, window: Context, refused: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[dict]:
        """`request_window`, except that an API refusing a window for being older than it keeps
        (HTTP 400 for a window that starts before `oldest_kept`) is not the end of the run: the
        part it no longer keeps goes to `refused`, and the rest of the window is read."""
        yielded = False
        try:
            for record in self.request_window(window):
                yielded = True
                yield record
        except APIRequestError as exc:
            start, end = window["window_start"], window["window_end"]
            oldest = self.oldest_kept()
            if exc.status != 400 or yielded or oldest is None or start >= oldest:
                raise
            refused.append((start, min(end, oldest)))
            if end > oldest:
                yield from self.request_window(self.window_context(window, oldest, end))

    def end_partition(
        self,
        context: Context | None,
        refused: list[tuple[dt.datetime, dt.datetime]],
        read_before: dt.datetime | None,
    ) -> None:
        """Say what the API refused for being too old: a gap when earlier runs read the partition,
        else the start of a first run reaching further back than the API keeps (said once)."""
        if not refused:
            return
        if read_before is not None:
            self.report_unreadable(context, refused, read_before)
        else:
            self.note_retention_once(
                logging.INFO,
                "%s: the API refuses queries older than it keeps (%d days here); reading from %s, not %s",
                format_timestamp(max(end for _, end in refused)),
                format_timestamp(min(start for start, _ in refused)),
            )

    def sync_end(self) -> dt.datetime:
        """Records newer than the run's start wait for the next run, so a run is a snapshot."""
        end_date = self.config.get("end_date")
        return min(parse_timestamp(end_date), self.run_started_at) if end_date else self.run_started_at

    def windows(self, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        size = self.window_size
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        window_start = start
        while window_start < end:
            window_end = min(end, midnight + size * ((window_start - midnight) // size + 1))
            yield window_start, window_end
            window_start = window_end

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if self.refused_earlier(context):
            return
        read_before = self.read_before(context)
        start, end = self.sync_start(context), self.sync_end()
        key, precision = self.replication_key or "", self.timestamp_precision
        progress = WindowProgress()
        refused: list[tuple[dt.datetime, dt.datetime]] = []
        windows = self.window_contexts(context, start, end)
        try:
            for index, window, records in read_as_ready(
                windows,
                functools.partial(self.read_window, refused=refused),
                workers=self.max_concurrent_requests,
                chunk_size=self.config.get("page_size", 1000),
            ):
                if records is None:
                    self.commit_windows(context, progress, index, windows)
                    continue
                # Replication values made canonical here compare with the bounds as strings.
                low = format_timestamp(window["window_start"], precision)
                high = format_timestamp(window["window_end"], precision)
                newest, undated = "", 0
                for record in records:
                    value = record.get(key)
                    if value and low <= (value := normalize_timestamp(value, precision)) < high:
                        record[key] = value
                        yield record
                        if value > newest:  # after the yield: the SDK has written the record
                            newest = value
                    elif not value:
                        undated += 1
                progress.note(index, newest)
                self.warn_undated(undated)
        except PartitionNotFoundError as exc:
            # Windows not yet whole must not become the bookmark.
            self.get_context_state(context).pop("progress_markers", None)
            self.logger.warning("%s: skipping the rest of a partition that no longer exists: %s", self.name, exc)
        except APIRequestError as exc:
            self.get_context_state(context).pop("progress_markers", None)  # as above
            self.partition_failed(context, exc)
        self.end_partition(context, refused, read_before)

    def warn_undated(self, count: int) -> None:
        """Records without a replication value belong to no window: skipped, but never silently."""
        if count:
            self.logger.warning(
                "%s: skipped %d record(s) without %s: they cannot be placed in a time window",
                self.name,
                count,
                self.replication_key,
            )

    @property
    def max_concurrent_requests(self) -> int:
        return int(self.config.get("max_concurrent_requests", 4))

    def window_contexts(self, context: Context | None, start: dt.datetime, end: dt.datetime) -> list[Context]:
        """The context of each window of [start, end), oldest first."""
        return [self.window_context(context or {}, *window) for window in self.windows(start, end)]

    def window_context(self, context: Context, start: dt.datetime, end: dt.datetime) -> Context:
        """Records of [start, end) are emitted; the request asks for `query_range` of it."""
        query_start, query_end = self.query_range(start, end)
        return {**context, "window_start": start, "window_end": end, "query_start": query_start, "query_end": query_end}

    def request_window(self, window: Context) -> Iterator[dict]:
        """All records the API returns for one window; overridden where windows must split."""
        yield from self.request_records(window)

    def commit_windows(
        self, context: Context | None, progress: WindowProgress, index: int, windows: list[Context]
    ) -> None:
        """Window `index` is whole: move the bookmark over the windows now whole from the oldest on,
        and emit STATE.

        Runs only after the SDK has written every record those windows yielded, so STATE never
        claims a record that was not emitted. The bookmark never moves backwards.
        """
        grew, newest = progress.finish(index)
        if not grew:
            return
        self.note_read_through(context, windows[progress.whole.oldest_not_whole - 1]["window_end"])
        key = self.replication_key or ""
        state = self.get_context_state(context)
        previous = state.get("replication_key_value")
        # The state never holds an older value, not even for a moment (a SIGTERM writes it as is).
        if newest is not None and (not previous or parse_timestamp(newest) > parse_timestamp(previous)):
            self.state_manager.increment_state({key: newest}, context=context, replication_key=key)
        self._finalize_state(state)
        self._write_state_message()


ONE_SECOND = dt.timedelta(seconds=1)


class ResultCapSplitting(TimeWindowStream):
    """Windows of an API that serves at most `result_cap` results per query are read in
    smaller queries until every query is served whole.

    How the cap shows itself differs: Serverless Logs stop silently at the cap
    (`cap_is_silent`); Alerts refuse, with HTTP 400, any page that reaches past it
    (`refuses_for_result_cap`). A query is known to be capped when its pages reach
    `result_cap` and the API links another page (or, when the cap is silent, reach it at all),
    or when the API refuses a page: the next page is not asked for, and the query's range is
    split in two halves on a whole second, recursively, down to `min_split` (`_read_window`).

    The query range is what is split, not only the window: a query may reach before its
    window (`query_lead`, the Alerts buffering lead), and a burst there must not make every
    later window split down to single seconds.

    Records are emitted as they arrive, so splitting never holds a window in memory: a piece
    skips the SIDs already emitted that it can return, at most `result_cap` per level of
    splitting plus those of a `query_lead`. (Twilio gives no total count, so finding the cap
    means reading to it; probing first would cost the same pages and hold 10,000 records.)
    All state is local to the call, so windows may be read concurrently.
    """

    result_cap: t.ClassVar[int] = 10_000
    cap_is_silent: t.ClassVar[bool] = False
    #: What the records are called in messages ("logs", "alerts").
    records_noun: t.ClassVar[str] = "records"
    #: Filters are sent to the second, so nothing shorter than this can be asked for.
    min_split: t.ClassVar[dt.timedelta] = ONE_SECOND

    @override
    def last_page(self, response: requests.Response, pages: QueryPages, has_next: bool) -> bool:
        pages.served += len(response_body(response).get(self.records_key) or [])
        if pages.served >= self.result_cap and (has_next or self.cap_is_silent):
            msg = f"{self.name}: {self.request_line(response)} reached the cap of {self.result_cap} results per query"
            raise ResultCapReached(msg)
        return False

    @override
    def request_window(self, window: Context) -> Iterator[dict]:
        """Every record of the window exactly once, however many the window holds."""
        yield from self._read_window(window, known={})

    def _read_window(self, window: Context, known: dict[str, dt.datetime]) -> Iterator[dict]:
        """Records of [window_start, window_end) that are not in `known`, from one query of
        [query_start, query_end), or from two of its halves if it is capped.

        `known` holds the SIDs already emitted that this query can return; what the call
        emits is added to it, so that a later piece of the same window skips them.
        """
        start, end = window["window_start"], window["window_end"]
        key = self.replication_key or ""
        seconds: collections.Counter[dt.datetime] = collections.Counter()  # to name a second that is too full
        try:
            for record in self.request_records(window):
                value, sid = record.get(key), record.get("sid")
                if not value:
                    self.warn_undated(1)
                    continue
                created = parse_timestamp(value)
                seconds[floor_second(created)] += 1
                if sid and sid not in known and start <= created < end:
                    known[sid] = created
                    yield record
        except ResultCapReached as reached:
            busiest = seconds.most_common(1)[0][0] if seconds else floor_second(window["query_start"])
            how = str(reached).removeprefix(f"{self.name}: ")
        else:
            return
        for piece in self._pieces(window, busiest, how):
            inside = {sid: when for sid, when in known.items() if piece["window_start"] <= when < piece["window_end"]}
            yield from self._read_window(piece, inside)
            # Only records from the piece's last second on can come back from a later query.
            boundary = floor_second(piece["query_end"])
            known.update((sid, when) for sid, when in inside.items() if when >= boundary)

    def _pieces(self, window: Context, busiest: dt.datetime, how: str) -> list[Context]:
        """The halves of a capped query's range, each with the part of the window it can return.

        A query of [q0, q1) on the API's filter field returns records of [q0, q1 + lead + 1 s)
        (bounds are sent to the second, the end inclusive): records are never created before
        they are generated.
        """
        start, end = window["window_start"], window["window_end"]
        query_start, query_end = window["query_start"], window["query_end"]
        middle = self._split_point(query_start, query_end)
        if middle is None:
            precision = self.timestamp_precision
            msg = (
                f"{self.name}: {self.describe_partition(window)}: the second {format_timestamp(busiest)} holds "
                f"too many {self.records_noun}: the query from {format_timestamp(query_start, precision)} to "
                f"{format_timestamp(query_end, precision)} still reaches Twilio's cap of {self.result_cap} "
                f"{self.records_noun} per query and cannot be split below {self.min_split.total_seconds():g} s; "
                f"stopping rather than losing {self.records_noun} (the bookmark stays before this window). "
                f"The last query: {how}."
            )
            raise ResultCapError(msg)
        self.logger.info(
            "%s: the query from %s to %s reached the cap of %d %s per query; reading it in two halves",
            self.name,
            format_timestamp(query_start, self.timestamp_precision),
            format_timestamp(query_end, self.timestamp_precision),
            self.result_cap,
            self.records_noun,
        )
        reach = self.query_lead + ONE_SECOND
        return [
            {
                **window,
                "window_start": max(start, piece_start),
                "window_end": min(end, piece_end + reach),
                "query_start": piece_start,
                "query_end": piece_end,
            }
            for piece_start, piece_end in ((query_start, middle), (middle, query_end))
        ]

    def _split_point(self, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
        """A whole second strictly inside (start, end), near the middle; None if too short."""
        if end - start <= self.min_split:
            return None
        middle = floor_second(start + (end - start) / 2)
        if middle <= start:
            middle = ceil_second(start + ONE_SECOND / 1000)
        return middle if start < middle < end else None


@dataclass(frozen=True)
class TwilioAccount:
    """One account to read, with the credential Basic auth sends: an API key pair or the auth token."""

    account_sid: str
    username: str
    password: str = field(repr=False)

    @property
    def authorization(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def twilio_accounts(config: t.Mapping[str, t.Any]) -> list[TwilioAccount]:
    """The single-account settings and every `twilio_accounts` entry, once per account SID."""
    entries = [
        {
            "account_sid": config.get("twilio_account_sid"),
            "auth_token": config.get("twilio_auth_token"),
            "api_key_sid": config.get("twilio_api_key_sid"),
            "api_key_secret": config.get("twilio_api_key_secret"),
        },
        *(config.get("twilio_accounts") or []),
    ]
    accounts: dict[str, TwilioAccount] = {}
    for entry in entries:
        sid = entry.get("account_sid")
        if not sid or sid in accounts:
            continue
        if entry.get("api_key_sid") and entry.get("api_key_secret"):
            accounts[sid] = TwilioAccount(sid, entry["api_key_sid"], entry["api_key_secret"])
        elif entry.get("auth_token"):
            accounts[sid] = TwilioAccount(sid, sid, entry["auth_token"])
    return list(accounts.values())


class TwilioStream(TapEventsStream):
    """Twilio: Basic auth per account (auth token or API key pair), next_page_url paging.

    Every account is a partition: `account_sid` is in every context, so each account keeps
    its own bookmarks, and the request carries that account's credential.
    """

    provider = "Twilio"
    credential_hint = "the credentials were refused (check twilio_auth_token or the API key pair)"

    @cached_property
    def accounts(self) -> dict[str, TwilioAccount]:
        return {account.account_sid: account for account in twilio_accounts(self.config)}

    @property
    def partitions(self) -> list[dict] | None:
        if self.parent_stream_type is not None:
            return None  # contexts come from the parent stream, account_sid included
        return [{"account_sid": account_sid} for account_sid in self.accounts]

    @property
    def authenticator(self) -> AuthBase:
        return _NoAuth()  # per-account credentials are set in `get_http_request`

    def credential_of(self, context: Context | None) -> str:
        return f"Twilio account {(context or {}).get('account_sid')}"

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        context = page.stream_context or {}
        account = self.accounts.get(context.get("account_sid", "")) or next(iter(self.accounts.values()))
        request.headers = {**request.headers, "Authorization": account.authorization}
        return request

    def get_new_paginator(self) -> NextPageUrlPaginator:
        return NextPageUrlPaginator(origin(self.url_base), lambda: f"{self.name}: GET {self.endpoint}", self.last_page)

    def api_error(self, response: requests.Response) -> tuple[str | None, str | None]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        code = body.get("code")
        return (str(code) if code is not None else None), body.get("message")


class TwilioListStream(TwilioStream):
    """A parent list (workspaces, services) read whole on every run, filtered to `sids_setting`.

    A configured SID that no configured account lists is named once, after every account
    was listed, rather than failing the run.
    """

    #: The setting that names the SIDs to read; empty or unset reads them all.
    sids_setting: t.ClassVar[str | None] = None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: set[str] = set()
        self._accounts_listed: set[str] = set()

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"PageSize": self.config["page_size"]}

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        # SIDs' hex is not case-sensitive.
        configured = self.config.get(self.sids_setting) if self.sids_setting else None
        wanted = {str(sid).lower(): str(sid) for sid in configured or []}
        for record in super().get_records(context):
            sid = str(record.get("sid") or "").lower()
            self._listed.add(sid)
            if not wanted or sid in wanted:
                yield record
        partition = self.describe_partition(context)
        if not any(f.stream == self.name and f.partition == partition for f in self.run_report.failures):
            # Listed whole (an account that could not be listed is named at the end instead).
            self._accounts_listed.add((context or {}).get("account_sid", ""))
        if wanted and self._accounts_listed >= set(self.accounts):
            missing = sorted(original for lowered, original in wanted.items() if lowered not in self._listed)
            if missing:
                self.logger.warning(
                    "%s: %s names SIDs that no configured account lists (deleted, or of another account), skipped: %s",
                    self.name,
                    self.sids_setting,
                    ", ".join(missing),
                )


class TelnyxStream(TapEventsStream):
    """Telnyx: Bearer auth with the API key, page-number paging."""

    provider = "Telnyx"
    base_url_setting = "telnyx_base_url"
    credential_hint = "the API key was refused (check telnyx_api_key)"

    @property
    def authenticator(self) -> AuthBase:
        return BearerAuth(self.config["telnyx_api_key"])

    def get_new_paginator(self) -> TelnyxPaginator:
        return TelnyxPaginator(lambda: f"{self.name}: GET {self.endpoint}")

    def api_error(self, response: requests.Response) -> tuple[str | None, str | None]:
        """Code, and title with detail, of the first of Telnyx's `errors`."""
        try:
            errors = orjson.loads(response.content).get("errors") or []
        except (orjson.JSONDecodeError, AttributeError):
            return None, None
        if not errors or not isinstance(errors[0], dict):
            return None, None
        first = errors[0]
        code = str(first["code"]) if first.get("code") is not None else None
        title, detail = first.get("title"), first.get("detail")
        return code, f"{title}: {detail}" if title and detail else title or detail


class TelnyxPaginator(PageNumberPaginator):
    """`page[number]` 1, 2, ... up to `meta.total_pages`: the last page costs no extra request.

    The page number in `meta` must be the one asked for: a server that ignored `page[number]`
    would otherwise return page 1 for ever.
    """

    def __init__(self, describe: Callable[[], str]) -> None:
        super().__init__(1)
        self._describe = describe

    def has_more(self, response: requests.Response) -> bool:
        meta = response_body(response).get("meta") or {}
        answered = meta.get("page_number")
        if answered is not None and int(answered) != self.current_value:
            msg = (
                f"{self._describe()}: asked for page {self.current_value} and got page {answered}; "
                "the API did not honour page[number]."
            )
            raise APIRequestError(msg)
        return int(self.current_value) < int(meta.get("total_pages") or 0)


class _NoAuth(AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class BearerAuth(AuthBase):
    """`Authorization: Bearer <key>`, with a repr that never shows the key."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"
