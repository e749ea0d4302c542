"""The base stream of every provider: HTTP, errors, retries, partitions and the record hot path."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import typing as t
from functools import cached_property
from importlib.resources import files
from urllib.parse import urlsplit

import backoff
import orjson
import requests
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema
from singer_sdk.batch import Batcher
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_events.batches import StateGate
from tap_events.concurrency import AdaptiveLimit
from tap_events.errors import APIRequestError, PartitionNotFoundError, ResultCapReached
from tap_events.output import EventsWriter, RecordLines, selected_properties
from tap_events.pagination import QueryPages
from tap_events.responses import WholeBodyAdapter, attach_context, hand_out_records, response_body
from tap_events.timestamps import Precision, placed_timestamp, utc_now

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from backoff.types import Details
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_events.report import RunReport
    from tap_events.tap import TapEvents

#: Context keys that name a partition, in the order a partition is described.
PARTITION_KEYS = (
    ("account_sid", "account"),
    ("workspace_sid", "workspace"),
    ("service_sid", "service"),
    ("environment_sid", "environment"),
)
#: The largest `max_concurrent_requests` (settings.py): each stream keeps that many connections.
MAX_REQUESTS_IN_FLIGHT = 16
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: How the SDK's `request_records` starts its line about a page without records.
EMPTY_PAGE_MESSAGE = "Pagination stopped after"


class RoutineLinesToDebug(logging.Filter):
    """SDK lines said once per partition or per discovery, which the progress lines and the closing
    report (report.py) now sum up: logged at DEBUG (`TAP_EVENTS_LOGLEVEL=DEBUG` shows them), so that
    a run's console stays short. A logger's filter sees only its own records: installed on the tap's
    logger and on each stream's."""

    routine = ("Starting incremental sync of '%s' with bookmark value", "Added '%s' as child stream to")

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and isinstance(record.msg, str) and record.msg.startswith(self.routine):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


ROUTINE_LINES_TO_DEBUG = RoutineLinesToDebug()


#: One JSON schema per stream, package data of tap_events (in a checkout and in the wheel alike).
SCHEMAS = SchemaDirectory(files("tap_events") / "schemas")


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


def retry_cause(exception: BaseException | None) -> str:
    """The run report's name for why a request is retried (one of `report.RETRY_CAUSES`)."""
    if isinstance(exception, requests.exceptions.Timeout):
        return "timeout"
    response = getattr(exception, "response", None)
    if isinstance(response, requests.Response):
        status = response.status_code
        if status == 429:
            return "429"
        if status == 408:
            return "timeout"
        # A 2xx retried: its body was cut short, not JSON, or without the list of records.
        return "5xx" if status >= 500 else "truncated_body"
    if isinstance(exception, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return "truncated_body"
    return "connection"


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
    timestamp_precision: t.ClassVar[Precision] = "seconds"
    #: How a stream without partitions is named in warnings and the run report.
    unpartitioned: t.ClassVar[str] = "the whole stream"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger.addFilter(ROUTINE_LINES_TO_DEBUG)  # once per logger: `addFilter` skips a filter it has
        # Bodies read in one call (responses.py); a connection kept for every request in flight.
        adapter = WholeBodyAdapter(pool_maxsize=MAX_REQUESTS_IN_FLIGHT)
        for scheme in ("https://", "http://"):
            self.requests_session.mount(scheme, adapter)

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
    @override
    def timeout(self) -> int:
        """Seconds to wait for the server to connect, and for its whole answer (responses.WholeBodyAdapter)."""
        return int(self.config.get("request_timeout_seconds", 60))

    @property
    @override
    def url_base(self) -> str:
        return str(self.config[self.base_url_setting]).rstrip("/")

    @property
    def endpoint(self) -> str:
        return f"{self.url_base}{self.path}"

    # ---- requests and errors -------------------------------------------------------------

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        next_page_url = page.next_page_token
        if isinstance(next_page_url, str) and "://" in next_page_url:
            # Send the server's own next-page URL verbatim: re-appending our params breaks it.
            return HTTPRequest(url=next_page_url, method="GET", headers=self.http_headers)
        return super().get_http_request(page=page)

    @override
    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retry transient failures with the `backoff_*` hooks, for at most `max_retry_seconds`
        (which the SDK's decorator cannot bound); once retries are spent, fail with a clear message.
        Every attempt is counted in the run report, for its partition."""
        report = self.run_report

        def send(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            report.request(self.name, self.describe_partition(context))
            limit = self.request_limit(context)
            generation = limit.acquire()
            try:
                response = t.cast("requests.Response", func(prepared_request, context))
            except RetriableAPIError as exc:
                if exc.response is not None and exc.response.status_code == 429:
                    self.too_many_requests(limit, generation, exc.response, context)
                raise
            finally:
                limit.release()
            limit.answered()
            self.observe_rate_limit(limit, response)
            return response

        retried = backoff.on_exception(
            self.backoff_wait_generator,
            (
                ConnectionError,
                RetriableAPIError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=self.backoff_max_tries(),
            max_time=self.max_retry_seconds,
            jitter=self.backoff_jitter,
            on_backoff=self.backoff_handler,
            logger=None,
        )(send)

        def request(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            try:
                response = t.cast("requests.Response", retried(prepared_request, context))
                attach_context(response, context)  # for `last_page`
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

    def request_limit(self, context: Context | None) -> AdaptiveLimit:
        """The requests in flight allowed for the partition's credential (concurrency.py)."""
        tap = t.cast("TapEvents", self._tap)
        return tap.account_limits.of(self.credential_of(context), self.max_concurrent_requests)

    @property
    def max_concurrent_requests(self) -> int:
        """Requests in flight per credential at most, and worker threads of a windowed partition."""
        return int(self.config.get("max_concurrent_requests", 8))

    def too_many_requests(
        self, limit: AdaptiveLimit, generation: int, response: requests.Response, context: Context | None
    ) -> None:
        """A 429: fewer requests in flight for this credential (the retry is `backoff`'s)."""
        self.observe_rate_limit(limit, response)
        lowered = limit.refused(generation)
        if lowered is None:
            return
        code, _ = self.api_error(response)
        load = self.reported_load(response)
        self.logger.info(
            "%s: HTTP 429%s for %s%s: at most %d requests in flight from now on (was %d), more again as "
            "answers come back clean",
            self.name,
            f" (error {code})" if code else "",
            self.credential_of(context),
            f", which the API says has {load} requests in flight" if load else "",
            lowered[1],
            lowered[0],
        )

    def reported_load(self, response: requests.Response) -> str | None:
        """How many requests the API says the account has in flight, where it says so."""
        return None

    def observe_rate_limit(self, limit: AdaptiveLimit, response: requests.Response) -> None:
        """Read what an answer says of the API's rate limit (Telnyx's `x-ratelimit-*`)."""

    @override
    def backoff_max_tries(self) -> int:
        """The first attempt and `max_request_retries` retries."""
        return int(self.config.get("max_request_retries", 8)) + 1

    @override
    def backoff_jitter(self, value: float) -> float:
        """None added: `backoff_wait_generator` jitters the exponential part only, so that a wait
        the server asked for (`Retry-After`) is never shortened."""
        return value

    @override
    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        """Exponential backoff with jitter, stretched to honour `Retry-After` on 429/503."""
        attempt = 0
        exception = yield 0.0
        while True:
            delay = min(60.0, self.backoff_factor * 2**attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            asked = self.retry_wait_asked(getattr(exception, "response", None))
            exception = yield max(delay, asked) if asked is not None else delay

    def retry_wait_asked(self, response: requests.Response | None) -> float | None:
        """Seconds the server asked us to wait before a retry (`Retry-After`)."""
        return retry_after_seconds(response)

    @override
    def backoff_handler(self, details: Details) -> None:
        """One WARNING per retry, and the retry counted by cause in the run report."""
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        cause = f"HTTP {response.status_code}" if isinstance(response, requests.Response) else type(exception).__name__
        args = details.get("args") or ()
        context = args[1] if len(args) > 1 else None
        self.run_report.retry(self.name, self.describe_partition(context), retry_cause(exception))
        self.logger.warning(
            "%s: %s on GET %s; retry %d in %.1f s",
            self.name,
            cause,
            self.endpoint,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )

    @override
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

    def page_read(self, response: requests.Response, pages: QueryPages, has_next: bool) -> bool:
        """Asked by the paginator after every page: `last_page`, or an exception that ends the
        query (a result cap reached, a busy window to read in pieces)."""
        return self.last_page(response, pages, has_next)

    def request_line(self, response: requests.Response) -> str:
        parts = urlsplit(response.url or self.endpoint)
        return f"GET {parts.scheme}://{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    @override
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

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The page's records, held by nothing but the reader once taken (`hand_out_records`)."""
        return hand_out_records(response, self.records_key, self.replication_key)

    @cached_property
    def _record_writer(self) -> tuple[EventsWriter, frozenset[str]] | None:
        """The writer and the properties to keep, when a record needs nothing but projection."""
        writer, keep = self._tap.message_writer, selected_properties(self)
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
            yield [record]

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
        self._write_state_message()

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

    @cached_property
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

    #: Context keys that identify a parent resource in the URL; a 404 on them means it is gone.
    partition_path_keys: t.ClassVar[tuple[str, ...]] = ()

    def partition_records(self, context: Context | None) -> Iterator[dict]:
        """Records of one partition; a partition deleted since it was listed is skipped, one that
        fails for good is reported and the others are still read."""
        if self.refused_earlier(context):
            return
        written = 0  # list streams are small: counted per record, added once
        try:
            for record in self.request_records(context):
                yield record
                written += 1  # after the yield: the SDK has written it
        except PartitionNotFoundError as exc:
            self.partition_deleted(context, exc)
        except APIRequestError as exc:
            self.partition_failed(context, exc)
        finally:
            self.run_report.records(self.name, self.describe_partition(context), written)

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
