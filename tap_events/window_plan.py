"""The window plan of one partition: from where to where it is read, and in which time windows.

A plain function of the settings, the partition's bookmark and the clock (`plan_windows`), so that
every rule is tested by calling it (tests/unit/test_windows_arithmetic.py): the start is the bookmark
minus `lookback_window_minutes` (never before `start_date`), or `start_date`, or `DEFAULT_HISTORY`
before the run on a first run; where an API's retention is firm the start is moved inside it; the
end is the run's start, or `end_date` if earlier; the windows are cut on multiples of their size
from midnight UTC. What the plan calls for (a log line, a gap in the run report) is the stream's
(`TimeWindowStream.window_plan`).
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from tap_events.timestamps import parse_timestamp

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: How far back a first run reads when `start_date` is not set.
DEFAULT_HISTORY = dt.timedelta(days=30)
#: Windows start this much after the oldest moment an API keeps, so that a query sent a few
#: minutes later is still inside it (records that old are about to disappear anyway).
RETENTION_MARGIN = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class WindowRules:
    """What one API's windows are: their size, and how long the API keeps data."""

    #: How long one request window spans; windows start on multiples of it from midnight UTC.
    size: dt.timedelta = dt.timedelta(days=1)
    #: How far back the API keeps data (the shortest documented, where editions differ).
    retention: dt.timedelta | None = None
    #: True where the documented retention is firm: windows start inside it (with a margin).
    clamp_to_retention: bool = False


@dataclass(frozen=True)
class WindowPlan:
    """[start, end) of one partition, cut into windows."""

    #: Where the settings and the bookmark say to start.
    asked: dt.datetime
    #: Where reading starts: `asked`, or the oldest moment kept where the retention is firm.
    start: dt.datetime
    end: dt.datetime
    #: The oldest moment a window may start and still be kept by the API (None: no retention known).
    oldest_kept: dt.datetime | None
    #: Whether the start comes from a bookmark (an earlier run read the partition).
    resumed: bool
    windows: tuple[tuple[dt.datetime, dt.datetime], ...]

    @property
    def older_than_kept(self) -> bool:
        """Whether the start asked for is older than the API keeps."""
        return self.oldest_kept is not None and self.asked < self.oldest_kept

    @property
    def clamped(self) -> bool:
        """Whether the start was moved up into the retention."""
        return self.start > self.asked


def oldest_kept(retention: dt.timedelta | None, now: dt.datetime) -> dt.datetime | None:
    """Where a window may start and still be inside the retention when its query is sent.

    From the present, not the run's start: a partition may begin long after the run did.
    """
    return None if retention is None else now - retention + RETENTION_MARGIN


def run_end(config: t.Mapping[str, t.Any], run_started_at: dt.datetime) -> dt.datetime:
    """Records newer than the run's start wait for the next run, so a run is a snapshot."""
    end_date = config.get("end_date")
    return min(parse_timestamp(end_date), run_started_at) if end_date else run_started_at


def start_asked(
    config: t.Mapping[str, t.Any], bookmark: dt.datetime | None, run_started_at: dt.datetime
) -> dt.datetime:
    """From the bookmark minus the lookback (never before `start_date`), else `start_date`, else
    `DEFAULT_HISTORY` before the run: the default history bounds a first run only, a run resumes
    from its bookmark however old."""
    configured = config.get("start_date")
    if bookmark is None:
        return parse_timestamp(configured) if configured else run_started_at - DEFAULT_HISTORY
    start = bookmark - dt.timedelta(minutes=config["lookback_window_minutes"])
    return max(start, parse_timestamp(configured)) if configured else start


def windows(start: dt.datetime, end: dt.datetime, size: dt.timedelta) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """[start, end) in windows of `size` aligned on midnight UTC (the first and last may be shorter)."""
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    window_start = start
    while window_start < end:
        window_end = min(end, midnight + size * ((window_start - midnight) // size + 1))
        yield window_start, window_end
        window_start = window_end


def plan_windows(
    config: t.Mapping[str, t.Any],
    bookmark: dt.datetime | None,
    *,
    run_started_at: dt.datetime,
    now: dt.datetime,
    rules: WindowRules,
) -> WindowPlan:
    """The partition's plan from the settings (`start_date`, `end_date`, `lookback_window_minutes`),
    its bookmark, the run's start and the present."""
    asked = start_asked(config, bookmark, run_started_at)
    oldest = oldest_kept(rules.retention, now)
    start = oldest if rules.clamp_to_retention and oldest is not None and asked < oldest else asked
    end = run_end(config, run_started_at)
    return WindowPlan(
        asked=asked,
        start=start,
        end=end,
        oldest_kept=oldest,
        resumed=bookmark is not None,
        windows=tuple(windows(start, end, rules.size)),
    )
