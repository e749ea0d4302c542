"""Pages 1..meta.total_pages of ascending, whole-second windows; page_size clamped to 250."""

from __future__ import annotations

import math

import pytest

from tests.common import TELNYX_AUDIT_EVENTS, parse
from tests.tap_runner import run_tap
from tests.telnyx_helpers import audit_requests, events, matching, pages_by_query, telnyx_config

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def test_each_window_reads_pages_1_to_total_pages_and_no_further(emulator):
    run = run_tap(telnyx_config(emulator, page_size=9))

    assert run.returncode == 0, run.stderr
    pages = pages_by_query(emulator)
    # The first query asks for the whole range (a probe): its first page shows more than two
    # pages to come, so the range is read in windows instead, from page 1 each.
    probe = max(pages, key=lambda query: parse(query[1]) - parse(query[0]))  # the widest
    assert pages.pop(probe) == [1]
    assert math.ceil(len(matching(emulator, probe[0], probe[1])) / int(probe[2])) >= 3
    for (after, before, size), asked in pages.items():
        total_pages = math.ceil(len(matching(emulator, after, before)) / int(size))
        # An empty window costs its one request; no window costs an empty page after the last.
        assert asked == list(range(1, max(1, total_pages) + 1)), (after, before)
    assert sum(len(asked) for asked in pages.values()) > len(pages), "some windows need pages"


def test_page_size_1000_is_asked_as_250(emulator):
    run = run_tap(telnyx_config(emulator, page_size=1000))

    assert run.returncode == 0, run.stderr
    assert {query["page[size]"] for query in audit_requests(emulator)} == {"250"}
    assert all(seen.status == 200 for seen in emulator.seen)
    assert {record["id"] for record in run.records[TELNYX_AUDIT_EVENTS]} == {e["id"] for e in events(emulator)}


def test_every_query_asks_for_ascending_order_between_whole_seconds(emulator):
    run = run_tap(telnyx_config(emulator, page_size=50))

    assert run.returncode == 0, run.stderr
    queries = audit_requests(emulator)
    assert queries
    assert all(query["sort"] == "asc" for query in queries)
    for query in queries:
        for bound in ("filter[created_after]", "filter[created_before]"):
            assert len(query[bound]) == len("2026-01-01T00:00:00Z"), query[bound]
