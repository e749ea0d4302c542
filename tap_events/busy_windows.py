"""A busy window read as several queries at once.

A window's pages form a chain (each names the next), so a day of 40 pages is 40 round trips in a
row. Where the API filters to the second (TaskRouter, Alerts, Serverless Logs), a window whose
first page links a next one is split instead: its query range is cut on whole seconds into
pieces sized from that page, and the pieces are read concurrently (`concurrency.ReadInPieces`).
Monitor Events filter whole days, so their windows cannot be cut.

The pieces partition the *query* range, and every piece keeps the window's own bounds for the
records it emits: whichever field the API compares (Alerts may filter on `date_generated`, the
record belongs to its window by `date_created`), every record of the window is returned by at
least one piece. A record is returned by two only at a boundary between pieces (bounds are sent
to the second, an end inclusive), so the records near a boundary go through one set shared by
every piece of the window (`SplitLedger`), and are emitted once. The first page of a window that
splits is not emitted: a piece reads it again.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import threading
import typing as t

from typing_extensions import override

from tap_events.timestamps import (
    ONE_SECOND,
    Precision,
    floor_second,
    format_timestamp,
    parse_timestamp,
    placed_timestamp,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Records nearer than this to a boundary between two pieces may be returned by both queries.
BOUNDARY_REACH = 2 * ONE_SECOND
#: A piece is sized to hold about this share of a page, so that most pieces are one request.
PIECE_FILL = 0.9
#: Pieces one split makes at most (and at least two).
MAX_PIECES = 100
#: A query whose first page shows fewer pages than this in all is paged on, not split:
#: paging costs a round trip per page, splitting reads the first page again.
MIN_PAGES_TO_SPLIT = 3


#: A busy range is cut into windows no shorter than this (one page of data may be a burst).
MIN_PIECE = dt.timedelta(minutes=1)


class BusyRange(Exception):
    """A partition's probe (one query for its whole range) links a next page after its first:
    the range is read as windows instead (`TimeWindowStream.range_windows`)."""

    def __init__(self, context: t.Mapping[str, t.Any], estimate: float | None) -> None:
        super().__init__("busy range")
        #: The probe's context: the partition and the range (`window_start`, `window_end`).
        self.context = context
        #: How many pages the range holds (`estimated_pages`), None when its first page cannot tell.
        self.estimate = estimate


class BusyWindow(Exception):
    """A query's first page links a next one: the query is better read as pieces."""

    def __init__(self, context: t.Mapping[str, t.Any], estimate: float | None) -> None:
        super().__init__("busy window")
        #: The context of the query that was busy (a window, or a piece of one).
        self.context = context
        #: How many pages the query holds (`estimated_pages`), None when its first page cannot tell.
        self.estimate = estimate


class SplitLedger:
    """What the pieces of one window share: the records returned near a boundary, emitted once.

    Holds only those records' keys (a few per boundary), never the window's.
    """

    def __init__(self, key: str, fields: Sequence[str], precision: Precision) -> None:
        self._key = key
        self._fields = fields
        self._precision = precision
        self._lows: list[str] = []  # sorted zone starts
        self._highs: list[str] = []  # the end of each zone, in the same order
        self._seen: set[t.Any] = set()
        self._lock = threading.Lock()

    @override
    def __repr__(self) -> str:  # a context holds it, and the SDK's metrics print contexts
        return f"SplitLedger({len(self._lows)} boundaries)"

    def add_boundaries(self, boundaries: Iterable[dt.datetime]) -> None:
        with self._lock:
            for boundary in boundaries:
                low = format_timestamp(boundary - BOUNDARY_REACH, self._precision)
                at = bisect.bisect_left(self._lows, low)
                self._lows.insert(at, low)
                self._highs.insert(at, format_timestamp(boundary + BOUNDARY_REACH, self._precision))

    def _near_boundary(self, value: str) -> bool:
        # Zones are all as wide, so the last one starting at or before `value` ends last.
        at = bisect.bisect_right(self._lows, value)
        return at > 0 and value < self._highs[at - 1]

    def admit(self, record: dict[str, t.Any]) -> bool:
        """Whether to emit the record: False only for one near a boundary that a piece has emitted."""
        near = False
        for field in self._fields:
            value = record.get(field)
            canonical = placed_timestamp(value, self._precision)
            if canonical is not None and self._near_boundary(canonical):
                near = True
                break
        if not near:
            return True
        key = record.get(self._key)
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True


def estimated_pages(values: Sequence[str], start: dt.datetime, end: dt.datetime, page_size: int) -> float | None:
    """How many pages [start, end] holds, from its first page; None when that page's order
    (newest or oldest first) does not tell which part of the range it covers."""
    if len(values) < page_size or len(values) < 2:
        return None
    try:
        times = [parse_timestamp(value) for value in values]
    except (ValueError, TypeError, AttributeError, OverflowError):  # a value that is no timestamp tells nothing
        return None
    if all(newer >= older for newer, older in itertools.pairwise(times)):
        covered = end - times[-1]
    elif all(older <= newer for older, newer in itertools.pairwise(times)):
        covered = times[-1] - start
    else:
        return None
    return (end - start) / max(covered, ONE_SECOND)


def piece_bounds(start: dt.datetime, end: dt.datetime, pieces: int) -> list[dt.datetime]:
    """Whole seconds that cut [start, end] into about `pieces` equal parts, strictly inside it."""
    step = (end - start) / pieces
    cuts = {floor_second(start + step * number) for number in range(1, pieces)}
    return sorted(cut for cut in cuts if start < cut < end)


def pieces_for(estimate: float | None, workers: int) -> int:
    """How many pieces a busy query becomes: sized from the estimate, or one per worker."""
    if estimate is None:
        return max(2, workers)
    return max(2, min(MAX_PIECES, math.ceil(estimate / PIECE_FILL)))


def range_piece_count(estimate: float, length: dt.timedelta, shortest: dt.timedelta) -> int:
    """How many windows a busy range becomes: each about `PIECE_FILL` of a page, none shorter than
    `shortest`, at least two."""
    return max(2, min(math.ceil(estimate / PIECE_FILL), int(length / shortest)))
