"""Stop policies: what ends a query's paging before the API's last page, beside the paginators.

A paginator (pagination.py) knows pages: the next one, cycles, other hosts. After every page it
asks the stream's `QueryStops` whether the query needs no more; each policy here is one small
rule, given what the page showed (`PageSeen`) and the query so far (`QueryPages`), and a stream
composes the ones it needs (`TapEventsStream.stop_policies`):

- `BilledReadsStop`: Monitor Events bill every event read: stop after a newest-first page that
  reaches below the window.
- `ResultCapStop`: Alerts and Serverless Logs serve at most N results per query: raise
  `ResultCapReached` at the cap, and the stream reads the query's range in halves (result_cap.py).
- `BusyRangeStop`: a partition's probe (one query for its whole range) whose first page links
  another: raise `BusyRange`, and the stream reads the range as windows (windows.py).
- `BusyWindowStop`: a query's first page that links another shows a busy window: raise
  `BusyWindow`, and the stream reads the query as pieces at once (busy_windows.py).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_events.busy_windows import BOUNDARY_REACH, MIN_PAGES_TO_SPLIT, BusyRange, BusyWindow, estimated_pages
from tap_events.errors import ResultCapReached
from tap_events.http_client import request_line
from tap_events.responses import page_values, response_context
from tap_events.timestamps import format_timestamp, normalize_timestamps

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

    from tap_events.pagination import QueryPages


@dataclass(frozen=True)
class PageSeen:
    """What a stop policy sees of one page."""

    #: Each record's replication value (None where it has none), in the page's order.
    values: Sequence[t.Any]
    #: Whether the API links a next page.
    has_next: bool
    #: The request, as messages name it (`GET https://host/path?query`).
    request: str
    #: The query's context: partition, window (`window_start`, `window_end`) and query range.
    context: t.Mapping[str, t.Any]


class StopPolicy(t.Protocol):
    def after_page(self, page: PageSeen, pages: QueryPages) -> bool:
        """True when the query needs no page after this one; or an exception that ends it."""
        ...


class QueryStops:
    """A stream's stop policies in order, asked by its paginator after every page; the first that
    says stop wins (those after it are not asked)."""

    def __init__(self, policies: Sequence[StopPolicy]) -> None:
        self.policies = tuple(policies)

    def after_page(self, response: requests.Response, pages: QueryPages, has_next: bool) -> bool:
        if not self.policies:
            return False
        page = PageSeen(page_values(response), has_next, request_line(response.url or ""), response_context(response))
        return any(policy.after_page(page, pages) for policy in self.policies)


class BilledReadsStop:
    """A page newest first whose oldest value is below the window's start ends the window.

    Only while every page so far was newest first, each page older than the one before: after a
    page out of order, nothing is guessed and the window is read to its end. The comparison is
    to the second, so records sharing the window start's second are all read.
    """

    def after_page(self, page: PageSeen, pages: QueryPages) -> bool:
        try:
            values = normalize_timestamps(list(filter(None, page.values)))
        except (ValueError, TypeError, AttributeError, OverflowError):  # a value that is no timestamp: no guess
            return False
        if not values:
            return False
        # Each value at least the next, checked in C: a page newest first is one run for the sort
        # (n - 1 comparisons). A generator over the pairs resumed a frame per value: this policy
        # cost 1.3k instructions per record of Monitor Events, 0.6k now (callgrind).
        newest_first = sorted(values, reverse=True) == values
        if not newest_first or (pages.oldest is not None and values[0] > pages.oldest):
            pages.in_order = False
        pages.oldest = values[-1]
        low = format_timestamp(page.context["window_start"])
        return page.has_next and pages.in_order and values[-1] < low


class ResultCapStop:
    """`ResultCapReached` once a query's pages reach `cap` results and the API links another page
    (or, where the cap is `silent`, reach it at all)."""

    def __init__(self, stream: str, cap: int, *, silent: bool) -> None:
        self.stream, self.cap, self.silent = stream, cap, silent

    def after_page(self, page: PageSeen, pages: QueryPages) -> bool:
        pages.served += len(page.values)
        if pages.served >= self.cap and (page.has_next or self.silent):
            raise ResultCapReached(f"{self.stream}: {page.request} reached the cap of {self.cap} results per query")
        return False


class BusyWindowStop:
    """`BusyWindow` after a query's first page when it links another and the query is worth
    splitting: the window allows it (`split_if_busy`), it is longer than the reach of a boundary,
    and its first page shows at least `MIN_PAGES_TO_SPLIT` pages (or cannot tell, on a window)."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size

    def after_page(self, page: PageSeen, pages: QueryPages) -> bool:
        context = page.context
        if not page.has_next or pages.read != 1 or not context.get("split_if_busy"):
            return False
        if context["query_end"] - context["query_start"] <= BOUNDARY_REACH:
            return False
        values = [value for value in page.values if value]
        estimate = estimated_pages(values, context["query_start"], context["query_end"], self.page_size)
        if estimate is None and context.get("split") is not None:
            return False  # a piece whose page order tells nothing of its size is paged through
        if estimate is not None and estimate < MIN_PAGES_TO_SPLIT:
            return False
        raise BusyWindow(context, estimate)


class BusyRangeStop:
    """`BusyRange` after a probe's first page when it links another, unless that page shows fewer
    than `MIN_PAGES_TO_SPLIT` pages in all (the probe then pages on: splitting would read its
    first page again for nothing)."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size

    def after_page(self, page: PageSeen, pages: QueryPages) -> bool:
        context = page.context
        if not page.has_next or pages.read != 1 or not context.get("probe"):
            return False
        values = [value for value in page.values if value]
        estimate = estimated_pages(values, context["query_start"], context["query_end"], self.page_size)
        if estimate is not None and estimate < MIN_PAGES_TO_SPLIT:
            return False
        raise BusyRange(context, estimate)
