"""Telnyx audit events: sorted, paged by number inside time windows, STATE after every page."""

from __future__ import annotations

import datetime as dt
import functools
import sys
import typing as t

import orjson
import requests
from requests.auth import AuthBase
from singer_sdk import Stream
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_events.client import TapEventsStream
from tap_events.concurrency import read_ahead
from tap_events.errors import APIRequestError
from tap_events.pagination import TelnyxPaginator
from tap_events.timestamps import ONE_SECOND, format_timestamp, normalize_timestamp, parse_timestamp
from tap_events.windows import TimeWindowStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

#: The older spec's maximum for `page[size]` (the 2026 spec states none): larger values are clamped.
MAX_PAGE_SIZE = 250


class TelnyxStream(TapEventsStream):
    """Telnyx: Bearer auth with the API key, page-number paging."""

    provider = "Telnyx"
    base_url_setting = "telnyx_base_url"
    credential_hint = "the API key was refused (check telnyx_api_key)"

    @property
    @override
    def authenticator(self) -> AuthBase:
        return BearerAuth(self.config["telnyx_api_key"])

    @override
    def get_new_paginator(self) -> TelnyxPaginator:
        return TelnyxPaginator(lambda: f"{self.name}: GET {self.endpoint}")

    @override
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


class BearerAuth(AuthBase):
    """`Authorization: Bearer <key>`, with a repr that never shows the key."""

    def __init__(self, token: str) -> None:
        self._token = token

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    @override
    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


class PageEnd(dict[str, t.Any]):
    """Not a record: marks the end of a page in the stream of raw records.

    `parse_response` yields it after a page's records. The SDK pulls it only when it asks for
    the record after the page's last one, that is after it has written every record of the
    page, so that is the moment a STATE may claim the page.
    """


class TelnyxAuditEventsStream(TelnyxStream, TimeWindowStream):
    """Audit log entries of the organization, oldest first.

    Each window [start, end) is one query: `filter[created_after]` and `filter[created_before]`
    (exclusive, whole seconds, one second wider than the window so that the result does not
    depend on whether Telnyx treats them as exclusive or inclusive), `sort=asc`, and pages
    1..`meta.total_pages`. Windows keep page numbers small, and events created while a run
    pages through a window land after its end, so they cannot shift its pages.

    Because the stream is sorted, STATE is written after every page: its bookmark is the
    `created_at` of the last record written, never more, and never lower than the bookmark
    the run started from. A resumed run starts at bookmark - lookback_window_minutes
    (inclusive), so records sharing the bookmark's instant that were on the next page are not
    lost. Telnyx calls audit logs "best-effort, eventually consistent": the lookback is what
    picks up an event that became visible after a run had passed its `created_at`.
    """

    name = "telnyx_audit_events"
    path = "/v2/audit_events"
    records_key = "data"
    primary_keys = ("id",)
    replication_key = "created_at"
    timestamp_fields = ("created_at",)
    # Telnyx writes milliseconds, and leaves the fraction out on a whole second.
    timestamp_precision = "milliseconds"
    window_size = dt.timedelta(days=1)
    is_sorted = True
    # The lookback re-reads records older than the bookmark on purpose, which the SDK's own
    # check would call unsorted; `get_records` checks the order itself instead.
    check_sorted = False
    # STATE is written after every page; the SDK's every-10,000-records STATE is not needed.
    STATE_MSG_FREQUENCY = sys.maxsize
    # Telnyx does not document how long audit events are kept: the 30 days of the other APIs
    # is assumed only to recognise a refusal; older windows are asked for (see `read_window`).
    retention = dt.timedelta(days=30)
    clamp_to_retention = False
    unpartitioned = "the API key's organisation"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.get("page_size", 0) > MAX_PAGE_SIZE:
            self.logger.info(
                "%s: Telnyx pages hold at most %d records: asking for %d per page (page_size %s)",
                self.name,
                MAX_PAGE_SIZE,
                MAX_PAGE_SIZE,
                self.config["page_size"],
            )

    # ---- requests ---------------------------------------------------------------------------

    @override
    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        after = start.replace(microsecond=0) - ONE_SECOND
        before = end.replace(microsecond=0) + (ONE_SECOND if end.microsecond else dt.timedelta())
        return {
            "filter[created_after]": format_timestamp(after),
            "filter[created_before]": format_timestamp(before),
            "sort": "asc",
        }

    @property
    def page_size(self) -> int:
        return min(int(self.config["page_size"]), MAX_PAGE_SIZE)

    @override
    def page_params(self, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"page[number]": int(next_page_token or 1), "page[size]": self.page_size}

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        # `page[number]=1`, `...=2026-01-05T10:00:00Z` as Telnyx documents them (readable in logs).
        request.safe_query_chars = "[]:"
        return request

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        yield from super().parse_response(response)  # `validate_response` checked the list is there
        yield PageEnd()

    # ---- records and STATE ------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if self.refused_earlier(context):
            return
        read_before = self.read_before(context)
        committed = self.bookmark(context)
        refused: list[tuple[dt.datetime, dt.datetime]] = []
        if committed is not None:
            # Canonical, so that `_increment_stream_state` compares records with it as strings.
            self.get_context_state(context)["replication_key_value"] = format_timestamp(
                committed, self.timestamp_precision
            )
        self._committed = committed
        try:
            yield from self._read_pages(context, committed, refused)
        except APIRequestError as exc:
            # The bookmark moved with each record written: back to the last page read whole.
            state = self.get_context_state(context)
            if self._committed is None:
                state.pop("replication_key_value", None)
            else:
                state["replication_key_value"] = format_timestamp(self._committed, self.timestamp_precision)
            self.partition_failed(context, exc)
        self.end_partition(context, refused, read_before)

    #: The bookmark of the last STATE written: what a failed read falls back to.
    _committed: dt.datetime | None = None

    def _read_pages(
        self, context: Context | None, committed: dt.datetime | None, refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterable[dict[str, t.Any]]:
        """Windows read ahead and written in order; `refused` collects the windows refused as too old."""
        start, end = self.sync_start(context), self.sync_end()
        newest: dt.datetime | None = None
        # Windows whole and in order: STATE after a page claims every record written before it.
        for window, records in read_ahead(
            self.window_contexts(context, start, end),
            functools.partial(self.read_window, refused=refused),
            workers=self.max_concurrent_requests,
            chunk_size=self.page_size + 1,  # a page and its PageEnd: STATE as soon as a page is written
        ):
            window_start, window_end = window["window_start"], window["window_end"]
            seen: set[str] = set()  # this window's ids
            for record in records:
                if isinstance(record, PageEnd):
                    committed = self._committed = self.commit_page(context, committed)
                    continue
                value = record.get("created_at")
                if not value:
                    self.warn_undated(1)
                    continue
                created = parse_timestamp(value)
                key = record.get("id")
                if not window_start <= created < window_end or key in seen:
                    # Outside the window (the query is one second wider), or read again
                    # because an event that arrived late shifted the pages.
                    continue
                if newest is not None and created < newest:
                    msg = (
                        f"{self.name}: GET {self.endpoint} returned {value} after "
                        f"{format_timestamp(newest, self.timestamp_precision)} although "
                        "sort=asc was asked; STATE could claim records not yet read, so "
                        "reading stops here."
                    )
                    raise APIRequestError(msg)
                if key is not None:
                    seen.add(key)
                newest = created
                record["created_at"] = normalize_timestamp(value, self.timestamp_precision)
                yield record
            self.note_read_through(context, window_end)  # its last page's PageEnd came after its last record

    @override
    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """A record of the lookback is older than the bookmark, which never moves backwards."""
        bookmark = self.get_context_state(context).get("replication_key_value")
        if bookmark is None or latest_record["created_at"] > bookmark:
            super()._increment_stream_state(latest_record, context=context)

    def commit_page(self, context: Context | None, committed: dt.datetime | None) -> dt.datetime | None:
        """Write STATE for the records written so far; the new committed bookmark.

        The SDK moved the bookmark to the last record written (the stream is sorted), unless
        that was a record of the lookback, older than the bookmark the run started from.
        """
        state = self.get_context_state(context)
        value = state.get("replication_key_value")
        current = parse_timestamp(value) if value else None
        if current is None or (committed is not None and current <= committed):
            return committed
        self.finalize_state_progress_markers(state)
        return current


STREAMS: list[type[Stream]] = [TelnyxAuditEventsStream]
