"""Stop policies (stop_policies.py), in process and without a stream: what ends a query's paging
before the API's last page, from what a page showed and the query's pages so far."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_events.busy_windows import BusyWindow
from tap_events.errors import ResultCapReached
from tap_events.pagination import QueryPages
from tap_events.stop_policies import BilledReadsStop, BusyWindowStop, PageSeen, ResultCapStop
from tests.common import parse

WINDOW = {"window_start": parse("2026-01-02T00:00:00Z"), "window_end": parse("2026-01-03T00:00:00Z")}
REQUEST = "GET http://127.0.0.1/v1/Alerts?PageSize=3"


def _page(values: list[str | None], *, has_next: bool = True, **context: t.Any) -> PageSeen:
    return PageSeen(values, has_next, REQUEST, {**WINDOW, **context})


def test_billed_reads_stop_after_a_newest_first_page_reaching_below_the_window():
    stop, pages = BilledReadsStop(), QueryPages(read=1)

    assert not stop.after_page(_page(["2026-01-02T09:00:00Z", "2026-01-02T08:00:00Z"]), pages)
    assert stop.after_page(_page(["2026-01-02T07:00:00Z", "2026-01-01T23:59:59Z"]), pages)
    # No next page linked: nothing to stop.
    assert not BilledReadsStop().after_page(_page(["2026-01-01T23:00:00Z"], has_next=False), QueryPages())


def test_billed_reads_never_stop_after_a_page_out_of_order():
    stop, pages = BilledReadsStop(), QueryPages(read=1)

    assert not stop.after_page(_page(["2026-01-02T08:00:00Z", "2026-01-02T09:00:00Z"]), pages)
    assert not pages.in_order
    assert not stop.after_page(_page(["2026-01-01T23:00:00Z"]), pages)


def test_the_result_cap_is_reached_with_a_next_page_or_silently_at_the_cap():
    pages = QueryPages()
    capped = ResultCapStop("twilio_monitor_alerts", 4, silent=False)

    assert not capped.after_page(_page(["a", "b"]), pages)
    with pytest.raises(ResultCapReached, match=r"twilio_monitor_alerts: GET .* reached the cap of 4 results"):
        capped.after_page(_page(["c", "d"]), pages)
    assert not ResultCapStop("s", 2, silent=False).after_page(_page(["a", "b"], has_next=False), QueryPages())
    with pytest.raises(ResultCapReached):
        ResultCapStop("s", 2, silent=True).after_page(_page(["a", "b"], has_next=False), QueryPages())


def _busy(values: list[str], **context: t.Any) -> PageSeen:
    query = {"query_start": WINDOW["window_start"], "query_end": WINDOW["window_end"], "split_if_busy": True}
    return _page(t.cast("list[str | None]", values), **{**query, **context})


def _newest_first(count: int, step: dt.timedelta) -> list[str]:
    end = WINDOW["window_end"]
    return [(end - step * (number + 1)).strftime("%Y-%m-%dT%H:%M:%SZ") for number in range(count)]


def test_a_first_page_showing_many_pages_is_a_busy_window():
    with pytest.raises(BusyWindow) as busy:
        BusyWindowStop(page_size=3).after_page(_busy(_newest_first(3, dt.timedelta(minutes=1))), QueryPages(read=1))

    assert busy.value.estimate is not None and busy.value.estimate > 100


def test_a_query_is_paged_on_when_splitting_would_not_pay():
    stop = BusyWindowStop(page_size=3)
    hours = _newest_first(3, dt.timedelta(hours=8))  # the first page covers all but a few hours: ~1 page

    assert not stop.after_page(_busy(hours), QueryPages(read=1))  # fewer than MIN_PAGES_TO_SPLIT
    assert not stop.after_page(_busy(_newest_first(3, dt.timedelta(minutes=1))), QueryPages(read=2))  # not first
    assert not stop.after_page(
        _busy(_newest_first(3, dt.timedelta(minutes=1)), split_if_busy=False), QueryPages(read=1)
    )
