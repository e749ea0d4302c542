"""Window arithmetic, in process: the window plan (start from bookmark, lookback, start_date and
retention; end; windows aligned on midnight UTC), the bookmark over whole windows from the oldest
on, gaps merged."""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_events.window_plan import (
    DEFAULT_HISTORY,
    RETENTION_MARGIN,
    WindowPlan,
    WindowRules,
    plan_windows,
    windows,
)
from tap_events.windows import WindowProgress, merge_ranges
from tests.common import parse


def _windows(start: str, end: str, size: dt.timedelta) -> list[tuple[str, str]]:
    found = windows(parse(start), parse(end), size)
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


RUN_STARTED = parse("2026-03-01T12:00:00Z")
DAY = dt.timedelta(days=1)


def _plan(bookmark: str | None = None, rules: WindowRules | None = None, **config: t.Any) -> WindowPlan:
    settings = {"lookback_window_minutes": 60, **config}
    return plan_windows(
        settings,
        parse(bookmark) if bookmark else None,
        run_started_at=RUN_STARTED,
        now=RUN_STARTED,
        rules=rules or WindowRules(),
    )


def test_a_first_run_starts_at_start_date_or_the_default_history():
    assert _plan(start_date="2026-02-20T00:00:00Z").start == parse("2026-02-20T00:00:00Z")
    assert _plan().start == RUN_STARTED - DEFAULT_HISTORY


def test_a_run_resumes_at_its_bookmark_minus_the_lookback_but_never_before_start_date():
    assert _plan("2026-02-25T10:00:00Z").start == parse("2026-02-25T09:00:00Z")
    assert _plan("2026-02-25T10:00:00Z", start_date="2026-02-25T09:30:00Z").start == parse("2026-02-25T09:30:00Z")
    # However old the bookmark: the default history bounds a first run only.
    assert _plan("2025-01-01T01:00:00Z").start == parse("2025-01-01T00:00:00Z")


def test_a_run_ends_at_its_start_or_an_earlier_end_date():
    assert _plan(start_date="2026-02-27T00:00:00Z").end == RUN_STARTED
    assert _plan(start_date="2026-02-27T00:00:00Z", end_date="2026-02-28T06:00:00Z").end == parse(
        "2026-02-28T06:00:00Z"
    )
    assert _plan(start_date="2026-02-27T00:00:00Z", end_date="2026-04-01T00:00:00Z").end == RUN_STARTED


def test_the_plan_holds_the_windows_of_its_range():
    plan = _plan(start_date="2026-02-27T10:00:00Z", end_date="2026-02-28T06:00:00Z")

    assert plan.windows == (
        (parse("2026-02-27T10:00:00Z"), parse("2026-02-28T00:00:00Z")),
        (parse("2026-02-28T00:00:00Z"), parse("2026-02-28T06:00:00Z")),
    )


def test_a_firm_retention_moves_the_start_inside_it_with_a_margin():
    firm = WindowRules(retention=30 * DAY, clamp_to_retention=True)

    plan = _plan(rules=firm, start_date="2025-12-01T00:00:00Z")

    assert plan.start == RUN_STARTED - 30 * DAY + RETENTION_MARGIN
    assert (plan.asked, plan.clamped, plan.older_than_kept, plan.resumed) == (
        parse("2025-12-01T00:00:00Z"),
        True,
        True,
        False,
    )
    assert _plan("2025-12-01T01:00:00Z", rules=firm).resumed


def test_a_soft_retention_keeps_the_start_and_says_it_is_older_than_kept():
    soft = WindowRules(retention=30 * DAY, clamp_to_retention=False)

    plan = _plan(rules=soft, start_date="2025-12-01T00:00:00Z")

    assert plan.start == parse("2025-12-01T00:00:00Z")
    assert (plan.clamped, plan.older_than_kept) == (False, True)
    assert not _plan(rules=soft, start_date="2026-02-27T00:00:00Z").older_than_kept
