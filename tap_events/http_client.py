"""HTTP for every stream: requests to the configured origin only, retries, the per-credential
limit around each attempt, and error messages that name stream, request, status and API error code.

`HTTPStream` is the bottom of the base stream (client.py builds on it); what it decides that
needs no stream is in plain functions here (`retry_after_seconds`, `retry_cause`, `backoff_waits`,
`request_line`, `error_message`), each tested alone (tests/tap/test_http_client_*.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import typing as t
from urllib.parse import urlsplit

import backoff
import orjson
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_events.api_clock import note_answer
from tap_events.errors import APIRequestError, PartitionNotFoundError, ResultCapReached
from tap_events.report import partition_name
from tap_events.responses import WholeBodyAdapter, attach_context, response_body
from tap_events.timestamps import utc_now

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tap_events.limits import AdaptiveLimit
    from tap_events.report import RunReport
    from tap_events.run import RunContext

#: The largest `max_concurrent_requests` (settings.py): each stream keeps that many connections.
MAX_REQUESTS_IN_FLIGHT = 16
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


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


def backoff_waits(
    factor: float, asked: Callable[[requests.Response | None], float | None]
) -> Generator[float, BaseException | None, None]:
    """Seconds before each retry, sent each failure in turn: exponential (`factor` x 2^n, at most a
    minute) with jitter on that part only, never shorter than what the server `asked` for."""
    attempt = 0
    exception = yield 0.0
    while True:
        delay = min(60.0, factor * 2**attempt) * random.uniform(0.5, 1.0)
        attempt += 1
        wait = asked(getattr(exception, "response", None))
        exception = yield max(delay, wait) if wait is not None else delay


def request_line(url: str) -> str:
    """`GET scheme://host/path?query`, as error messages name a request."""
    parts = urlsplit(url)
    return f"GET {parts.scheme}://{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def error_message(
    stream: str,
    provider: str,
    credential_hint: str,
    request: str,
    status: int,
    code: str | None,
    detail: str | None,
) -> str:
    """One paragraph naming stream, request, status and the API's error code, never a credential."""
    error = f"{provider} error {code}" if code is not None else f"no {provider} error code"
    if detail:
        error += f": {detail}"
    if status in (401, 403):
        lead = f"authentication failed for {provider}, {credential_hint}"
    elif 300 <= status < 400:
        lead = "unexpected redirect, not followed"
    else:
        lead = "request failed"
    return f"{stream}: {lead}: {request} answered HTTP {status} ({error})"


class HTTPStream(RESTStream[t.Any]):
    """Requests, retries and errors of every stream, whatever the provider.

    Responses are parsed and checked inside the retried request, so that a 200 with a
    truncated body is retried like a 5xx instead of being half-read. Requests only ever go
    to the configured base URL's origin, and redirects are not followed. Each attempt waits
    for the credential's `AdaptiveLimit` (limits.py), held by the run (`self.run`).
    """

    provider: t.ClassVar[str]
    base_url_setting: t.ClassVar[str]
    #: What a 401/403 says about the credential, never the credential itself.
    credential_hint: t.ClassVar[str] = "the credentials were refused"
    allow_redirects = False
    #: Retries of one request give up after `max_request_retries` or this long, whichever first.
    max_retry_seconds: t.ClassVar[float] = 900.0
    backoff_factor: t.ClassVar[float] = 1.0

    #: The key of the list of records in a page's JSON; a 200 without it is retried.
    records_key: t.ClassVar[str] = "data"
    #: Context keys that identify a parent resource in the URL; a 404 on them means it is gone.
    partition_path_keys: t.ClassVar[tuple[str, ...]] = ()
    #: How a stream without partitions is named in warnings and the run report.
    unpartitioned: t.ClassVar[str] = "the whole stream"

    def __init__(self, *args: t.Any, run: RunContext, **kwargs: t.Any) -> None:
        #: What every stream of the run shares (run.py), handed over by the tap that builds the stream.
        self.run = run
        super().__init__(*args, **kwargs)
        # Bodies read in one call (responses.py); a connection kept for every request in flight.
        adapter = WholeBodyAdapter(pool_maxsize=MAX_REQUESTS_IN_FLIGHT)
        for scheme in ("https://", "http://"):
            self.requests_session.mount(scheme, adapter)

    def describe_partition(self, context: Context | None) -> str:
        """`account AC…, workspace WS…`: the partition as warnings and the run report name it."""
        return partition_name(context, self.unpartitioned)

    @property
    def run_report(self) -> RunReport:
        """The run's report (`self.run.report`): requests and retries are counted there."""
        return self.run.report

    def credential_of(self, context: Context | None) -> str:
        """Whose credential reads the partition: its limit (limits.py); once refused (401), none of
        its partitions is tried again."""
        return self.provider

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
                attach_context(response, context)  # for the stop policies (`QueryStops`)
                note_answer(context, response)  # the API's clock (api_clock.py)
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
        """The requests in flight allowed for the partition's credential (limits.py)."""
        return self.run.limits.in_flight(self.credential_of(context), self.max_concurrent_requests)

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
        """Exponential backoff with jitter, stretched to honour `Retry-After` on 429/503 (`backoff_waits`)."""
        return backoff_waits(self.backoff_factor, self.retry_wait_asked)

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

    def request_line(self, response: requests.Response) -> str:
        return request_line(response.url or self.endpoint)

    @override
    def response_error_message(self, response: requests.Response) -> str:
        code, detail = self.api_error(response)
        return error_message(
            self.name,
            self.provider,
            self.credential_hint,
            self.request_line(response),
            response.status_code,
            code,
            detail,
        )
