"""Telnyx audit events: sorted, paged by number inside time windows, STATE after every page."""

from __future__ import annotations

import datetime as dt
import typing as t

import orjson
import requests
from requests.auth import AuthBase
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_events.client import TapEventsStream
from tap_events.limits import AdaptiveLimit, pause_while_spent, seconds_until_reset
from tap_events.pagination import TelnyxPaginator
from tap_events.timestamps import ONE_SECOND, format_timestamp
from tap_events.windows import SortedWindowStream

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
        return TelnyxPaginator(lambda: f"{self.name}: GET {self.endpoint}", self.query_stops)

    @override
    def observe_rate_limit(self, limit: AdaptiveLimit, response: requests.Response) -> None:
        """Telnyx counts requests per time window: `limits.pause_while_spent`."""
        pause_while_spent(limit, response)

    @override
    def retry_wait_asked(self, response: requests.Response | None) -> float | None:
        asked = super().retry_wait_asked(response)
        if asked is None and response is not None and response.status_code == 429:
            return seconds_until_reset(response)
        return asked

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


class TelnyxAuditEventsStream(TelnyxStream, SortedWindowStream):
    """Audit log entries of the organization, oldest first.

    Each window [start, end) is one query: `filter[created_after]` and `filter[created_before]`
    (exclusive, whole seconds, one second wider than the window so that the result does not
    depend on whether Telnyx treats them as exclusive or inclusive), `sort=asc`, and pages
    1..`meta.total_pages`. Windows keep page numbers small, and events created while a run
    pages through a window land after its end, so they cannot shift its pages.

    Because the stream is sorted, STATE is written after every page (`SortedWindowStream`): its
    bookmark is the `created_at` of the last record written. Telnyx calls audit logs "best-effort,
    eventually consistent": the lookback is what picks up an event that became visible after a
    run had passed its `created_at`.
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
    order_asked = "sort=asc"
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
    @override
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


STREAMS: list[type[TapEventsStream]] = [TelnyxAuditEventsStream]
