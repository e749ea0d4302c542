"""Window arithmetic, in process: windows aligned on midnight UTC, the bookmark over whole windows
from the oldest on, gaps merged."""

from __future__ import annotations

import datetime as dt
import types

from tap_events.windows import TimeWindowStream, WindowProgress, merge_ranges
from tests.common import parse


def _windows(start: str, end: str, size: dt.timedelta) -> list[tuple[str, str]]:
    stream = types.SimpleNamespace(window_size=size)
    found = TimeWindowStream.windows(stream, parse(start), parse(end))  # type: ignore[arg-type]
    return [(a.strftime("%d %H:%M"), b.strftime("%d %H:%M")) for a, b in found]


def test_windows_start_on_multiples_of_their_size_from_midnight_utc():
    assert _windows("2026-01-01T10:30:00Z", "2026-01-03T02:00:00Z", dt.timedelta(days=1)) == [
        ("01 10:30", "02 00:00"),
        ("02 00:00", "03 00:00"),
        ("03 00:00", "03 02:00"),
    ]
    assert _windows("2026-01-01T10:30:00Z", "2026-01-01T14:00:00Z", dt.timedelta(hours=2)) == [
        ("01 10:30", "01 12:00"),
        ("01 12:00", "01 14:00"),
    ]


def test_an_empty_range_has_no_window():
    assert _windows("2026-01-01T10:30:00Z", "2026-01-01T10:30:00Z", dt.timedelta(days=1)) == []


def test_the_bookmark_covers_only_windows_whole_from_the_oldest_on():
    progress = WindowProgress()
    progress.note(0, "2026-01-01T23:00:00Z")
    progress.note(1, "2026-01-02T23:00:00Z")
    progress.note(2, "2026-01-03T23:00:00Z")

    assert progress.finish(1) == (False, None)  # window 0 is not whole yet
    assert progress.finish(0) == (True, "2026-01-02T23:00:00Z")
    assert progress.finish(2) == (True, "2026-01-03T23:00:00Z")


def test_ranges_that_touch_or_overlap_are_merged():
    day = dt.timedelta(days=1)
    start = parse("2026-01-01T00:00:00Z")

    merged = merge_ranges([(start + 2 * day, start + 3 * day), (start, start + day), (start + day, start + 2 * day)])

    assert merged == [(start, start + 3 * day)]
    assert merge_ranges([(start, start)]) == []
