"""Paginators: Twilio's absolute next-page URL and Telnyx's page numbers, each refusing to loop."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator
from typing_extensions import override

from tap_events.errors import APIRequestError
from tap_events.responses import response_body

if t.TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class QueryPages:
    """What the pages of one query have shown so far."""

    #: Pages read.
    read: int = 0
    #: Records served by the pages read.
    served: int = 0
    #: The oldest replication value of the pages read, while they came newest first.
    oldest: str | None = None
    #: False once a page broke newest-first order: no early stop may be guessed after that.
    in_order: bool = True


class PageStops(t.Protocol):
    """What ends a query before its last page (stop_policies.QueryStops): asked after every page."""

    def after_page(self, response: requests.Response, pages: QueryPages, has_next: bool) -> bool: ...


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
        stops: PageStops | None = None,
    ) -> None:
        super().__init__(None)
        self._allowed_origin = allowed_origin
        self._describe = describe
        self._seen: set[str] = set()
        #: Asked after every page whether it ends the query early (it may raise to end it).
        self._stops = stops
        self.pages = QueryPages()

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page is not the end while it links to a next one (Serverless Logs do this)."""
        return bool((response_body(response).get("meta") or {}).get("next_page_url"))

    @override
    def get_next(self, response: requests.Response) -> str | None:
        meta = response_body(response).get("meta") or {}
        next_page_url = meta.get("next_page_url")
        self.pages.read += 1
        if self._stops is not None and self._stops.after_page(response, self.pages, bool(next_page_url)):
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


class TelnyxPaginator(PageNumberPaginator):
    """`page[number]` 1, 2, ... up to `meta.total_pages`: the last page costs no extra request.

    The page number in `meta` must be the one asked for: a server that ignored `page[number]`
    would otherwise return page 1 for ever.
    """

    def __init__(self, describe: Callable[[], str], stops: PageStops | None = None) -> None:
        super().__init__(1)
        self._describe = describe
        #: Asked after every page whether it ends the query early (it may raise to end it).
        self._stops = stops
        self.pages = QueryPages()

    @override
    def has_more(self, response: requests.Response) -> bool:
        meta = response_body(response).get("meta") or {}
        answered = meta.get("page_number")
        if answered is not None and int(answered) != self.current_value:
            msg = (
                f"{self._describe()}: asked for page {self.current_value} and got page {answered}; "
                "the API did not honour page[number]."
            )
            raise APIRequestError(msg)
        more = int(self.current_value) < int(meta.get("total_pages") or 0)
        self.pages.read += 1
        if self._stops is not None and self._stops.after_page(response, self.pages, more):
            return False
        return more
