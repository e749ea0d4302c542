"""Time windows read by strategy: a plan's lines, retention refusals, the bookmark over whole windows."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import operator
import sys
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_events.api_clock import CONTEXT_KEY, FirstAnswer
from tap_events.busy_windows import (
    BOUNDARY_REACH,
    MIN_PIECE,
    BusyRange,
    BusyWindow,
    SplitLedger,
    piece_bounds,
    pieces_for,
    range_piece_count,
)
from tap_events.client import TapEventsStream
from tap_events.concurrency import InBackground, ReadInPieces, WholeWindows, read_ahead, read_as_ready
from tap_events.errors import APIRequestError, PartitionNotFoundError
from tap_events.partitions_ahead import Ahead
from tap_events.stop_policies import BusyRangeStop, BusyWindowStop
from tap_events.timestamps import (
    CANONICAL_SHAPES,
    DIGITS_TO_NINES,
    format_timestamp,
    parse_timestamp,
    placed_timestamp,
    utc_now,
)
from tap_events.window_plan import WindowPlan, WindowRules, oldest_kept, plan_windows, windows

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context

    from tap_events.report import StreamProgress
    from tap_events.stop_policies import StopPolicy

    #: What a partition's reading yields (`UnsortedWindowStream.partition_events`): a chunk of a
    #: window's records, a window whole (records None), or the windows of a busy probe's range.
    WindowEvent: t.TypeAlias = "tuple[int, Context, list[dict] | None] | Replanned"


#: State key of a windowed partition: everything before it was read (windows read whole), whether
#: or not it held records. The bookmark alone cannot say so: a quiet partition's stays old.
#: Written from this machine's clock (the run's start) by earlier versions too: it tells gaps at the
#: source, never where a run starts.
READ_THROUGH = "read_through"
#: State key of a windowed partition: how far it was read whole by the API's clock, the earlier of
#: the whole windows' end and the `Date` of the partition's first answer in that run (api_clock.py).
#: A partition without a bookmark (it never held a record) starts its next run there, minus the
#: lookback: it costs one request per run, and a machine clock running ahead of the API's loses nothing.
API_READ_THROUGH = "read_through_api_clock"


#: Context key of a window whose first page was its probe's: the pieces it is read as (`range_windows`).
PIECES_KEY = "read_in_pieces"


def _in_pieces(pieces: list[Context]) -> Iterator[dict]:
    """No record and no request: `ReadInPieces` where the window's reader takes its first record,
    as after a busy first page."""
    yield from ()
    raise ReadInPieces(pieces)


def merge_ranges(ranges: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Ranges that touch or overlap joined into one, oldest first."""
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif start < end:
            merged.append((start, end))
    return merged


def _shown(record: dict, field: str) -> str:
    """A field's value as a warning shows it: `missing`, `null`, or its JSON text (shortened)."""
    if field not in record:
        return "missing"
    return "null" if record[field] is None else repr(record[field])[:80]


class Replanned(t.NamedTuple):
    """A partition's probe was busy: the windows its range is read as, instead (`range_windows`)."""

    windows: list[Context]


class WindowProgress:
    """The newest replication value of each window, and which windows are whole.

    Windows are read concurrently and finish in any order, but a run resumes after its
    bookmark, so the bookmark may only cover the windows that are all whole from the first on.
    """

    def __init__(self) -> None:
        self.newest: dict[int, str] = {}
        self.whole = WholeWindows()

    def note(self, index: int, value: str) -> None:
        if value > self.newest.get(index, ""):
            self.newest[index] = value

    def finish(self, index: int) -> tuple[bool, str | None]:
        """Window `index` is whole: whether the covered windows grew, and their newest value."""
        covered = self.whole.add(index)
        values = [self.newest.pop(covered_index) for covered_index in covered if covered_index in self.newest]
        return bool(covered), max(values, default=None)


class TimeWindowStream(TapEventsStream):
    """Incremental reading in non-overlapping time windows, up to `max_concurrent_requests` at once.

    What every windowed stream shares, once: the window plan (`window_plan.plan_windows`: start
    from bookmark, lookback, `start_date` and retention; end; the windows) and the lines and gaps
    it calls for, a window the API refuses as too old, and the failure of a partition. How the
    windows are read and when STATE is written is the strategy of the two subclasses:
    `UnsortedWindowStream` (records in no reliable order, bookmark over whole windows) and
    `SortedWindowStream` (oldest first, STATE after every page).
    """

    #: Whether the API filters to the second, so that a busy window can be read as pieces
    #: (busy_windows.py); only windows read as they are ready (`UnsortedWindowStream`) can.
    splits_busy_windows: t.ClassVar[bool] = False
    #: The fields the API's date filter may compare (a piece's boundaries are checked on each).
    filter_fields: t.ClassVar[tuple[str, ...]] = ()

    #: How long one request window spans; windows start on multiples of it from midnight UTC.
    window_size: t.ClassVar[dt.timedelta] = dt.timedelta(days=1)
    #: How far back the API keeps data (the shortest documented, where editions differ).
    retention: t.ClassVar[dt.timedelta | None] = None
    #: True where the documented retention is firm: windows start inside it (with a margin).
    #: False where data may be kept longer (or it is not documented): the old windows are asked
    #: for, and one the API refuses for being too old is a range it no longer keeps.
    clamp_to_retention: t.ClassVar[bool] = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_started_at = utc_now()
        self._retention_noted = False
        #: Per partition, the primary keys of the records emitted without a usable replication value.
        self._unplaced_emitted: dict[str, set[t.Any]] = {}

    @cached_property
    @override
    def fields_normalized_in_post_process(self) -> tuple[str, ...]:
        """All but the replication key, which `get_records` normalises to compare it with the window."""
        return tuple(name for name in self.timestamp_fields if name != self.replication_key)

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """Records are already bounded by the run's end (`WindowPlan.end`), so no signpost is needed."""
        return

    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        """Query parameters that select [start, end) (or the days that contain it)."""
        raise NotImplementedError

    @property
    def query_lead(self) -> dt.timedelta:
        """How long before a window its query must start to return every record of it."""
        return dt.timedelta(0)

    def query_range(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """What a query must select on the API's filter field to return every record of [start, end)."""
        return start - self.query_lead, end

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        assert context is not None
        return {
            **self.window_params(context["query_start"], context["query_end"]),
            **self.page_params(next_page_token),
        }

    def page_params(self, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"PageSize": self.config["page_size"]}

    @cached_property
    def progress(self) -> StreamProgress:
        """The stream's progress lines (`progress_interval_seconds`)."""
        return self.run.progress(self.name, self.logger)

    def bookmark(self, context: Context | None) -> dt.datetime | None:
        value = self.get_context_state(context).get("replication_key_value")
        return parse_timestamp(value) if value else None

    @cached_property
    def window_rules(self) -> WindowRules:
        return WindowRules(self.window_size, self.retention, self.clamp_to_retention)

    def window_plan(self, context: Context | None) -> WindowPlan:
        """The partition's start, end and windows (window_plan.py), and what a start older than the
        API keeps calls for: a line (said once per stream) or, when a bookmark is older than a firm
        retention, a gap in the run report."""
        plan = plan_windows(
            self.config,
            self.resume_point(context),
            run_started_at=self.run_started_at,
            now=utc_now(),
            rules=self.window_rules,
        )
        if not plan.older_than_kept:
            return plan
        if not plan.clamped:
            self.note_retention_once(
                logging.WARNING,
                "%s: the API may keep only %d days and start %s is older: the older windows are asked "
                "for (a window refused as too old is skipped), and older records may be missing at the source",
                format_timestamp(plan.asked),
            )
        elif not plan.resumed:
            self.note_retention_once(
                logging.INFO,
                "%s: the API keeps about %d days of data; starting at %s instead of %s",
                format_timestamp(plan.start),
                format_timestamp(plan.asked),
            )
        else:
            self.report_unreadable(context, [(plan.asked, min(plan.start, plan.end))], self.read_before(context))
        return plan

    def resume_point(self, context: Context | None) -> dt.datetime | None:
        """Where earlier runs left off (None: never read), which the plan moves back by the lookback:
        the bookmark, or for a partition that never held a record, how far it was read by the
        API's clock (`API_READ_THROUGH`). Not the later of the two: the lookback is documented
        (and relied on) as the time before the bookmark that is read again for late events."""
        bookmark = self.bookmark(context)
        if bookmark is not None:
            return bookmark
        value = self.get_context_state(context).get(API_READ_THROUGH)
        return parse_timestamp(value) if value else None

    def oldest_kept(self) -> dt.datetime | None:
        """Where a window may start and still be inside the retention when its query is sent (now)."""
        return oldest_kept(self.retention, utc_now())

    def note_retention_once(self, level: int, message: str, *args: t.Any) -> None:
        """Once per stream, not once per partition: the start is the same for every partition."""
        if not self._retention_noted and self.retention is not None:
            self._retention_noted = True
            self.logger.log(level, message, self.name, round(self.retention / dt.timedelta(days=1)), *args)

    def read_before(self, context: Context | None) -> dt.datetime | None:
        """How far earlier runs read this partition (None: never): `READ_THROUGH`, or in a state
        written before it existed, the bookmark."""
        value = self.get_context_state(context).get(READ_THROUGH)
        return parse_timestamp(value) if value else self.bookmark(context)

    def note_read_through(self, context: Context | None, window: Context) -> None:
        """Windows up to the end of `window` are whole; written with the next STATE. Never moves
        back. By the API's clock (`API_READ_THROUGH`) only as far as the partition's first answer."""
        state = self.get_context_state(context)
        value = window["window_end"]
        previous = state.get(READ_THROUGH)
        if not previous or value > parse_timestamp(previous):
            state[READ_THROUGH] = format_timestamp(value)
        first: FirstAnswer | None = window.get(CONTEXT_KEY)
        if first is None or first.date is None:
            return
        value = min(value, first.date)
        previous = state.get(API_READ_THROUGH)
        if not previous or value > parse_timestamp(previous):
            state[API_READ_THROUGH] = format_timestamp(value)  # to the second, as `Date` is: never later

    def report_unreadable(
        self,
        context: Context | None,
        ranges: Iterable[tuple[dt.datetime, dt.datetime]],
        read_before: dt.datetime | None,
    ) -> None:
        """The parts after `read_before` of ranges the source no longer keeps: a gap in what was
        loaded. One WARNING for the partition, and each range in the run report."""
        if read_before is None:
            return
        merged = merge_ranges((max(start, read_before), end) for start, end in ranges)
        if not merged:
            return
        partition = self.describe_partition(context)
        for start, end in merged:
            self.run.report.gap(self.name, partition, start, end)
        self.logger.warning(
            "%s: %s: last read up to %s, longer ago than the API keeps data: the events from %s can no "
            "longer be read and are missing from the destination",
            self.name,
            partition,
            format_timestamp(read_before),
            "; ".join(f"{format_timestamp(start)} to {format_timestamp(end)}" for start, end in merged),
        )

    def read_window(self, window: Context, refused: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[dict]:
        """The window's records (`read_kept`); a probe's first page held back (`held_until_whole_page`)."""
        records = self.read_kept(window, refused)
        return self.held_until_whole_page(records) if window.get("probe") else records

    def read_kept(self, window: Context, refused: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[dict]:
        """`window_records`, except that an API refusing a window for being older than it keeps
        (HTTP 400 for a window that starts before `oldest_kept`) is not the end of the run: the
        part it no longer keeps goes to `refused`, and the rest of the window is read."""
        records = iter(self.window_records(window))
        try:
            first = next(records)  # a refusal comes before any record
        except StopIteration:
            return
        except APIRequestError as exc:
            start, end = window["window_start"], window["window_end"]
            oldest = self.oldest_kept()
            if exc.status != 400 or oldest is None or start >= oldest:
                raise
            refused.append((start, min(end, oldest)))
            if end > oldest:
                yield from self.window_records(self.window_context(window, oldest, end))
            return
        yield first
        yield from records

    def end_partition(
        self,
        context: Context | None,
        refused: list[tuple[dt.datetime, dt.datetime]],
        read_before: dt.datetime | None,
    ) -> None:
        """Say what the API refused for being too old: a gap when earlier runs read the partition,
        else the start of a first run reaching further back than the API keeps (said once)."""
        if not refused:
            return
        if read_before is not None:
            self.report_unreadable(context, refused, read_before)
        else:
            self.note_retention_once(
                logging.INFO,
                "%s: the API refuses queries older than it keeps (%d days here); reading from %s, not %s",
                format_timestamp(max(end for _, end in refused)),
                format_timestamp(min(start for start, _ in refused)),
            )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        for page in self.get_record_pages(context):
            yield from page

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict]]:
        """The partition's windows, read by the strategy (`read_windows`); a partition that fails
        ends with its STATE claiming only records written (`rewind_to_committed`)."""
        if self.refused_earlier(context):
            self.partitions_ahead.drop(context)  # read ahead, if it was: dropped
            return
        read_before = self.read_before(context)
        refused: list[tuple[dt.datetime, dt.datetime]] = []
        try:
            yield from self.read_windows(context, refused)
        except PartitionNotFoundError as exc:
            self.rewind_to_committed(context)
            self.partition_deleted(context, exc, "the rest of a partition")
        except APIRequestError as exc:
            self.rewind_to_committed(context)
            self.partition_failed(context, exc)
        self.end_partition(context, refused, read_before)
        self.progress.partition_end(self.describe_partition(context))

    def read_windows(
        self, context: Context | None, refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterator[list[dict]]:
        """Every record of the partition's windows, a page at a time, each page written before the
        next is asked for; `refused` collects the windows refused as too old."""
        return self.read_range(context, refused)

    def rewind_to_committed(self, context: Context | None) -> None:
        """After a failure: the state may claim only what the last STATE claimed."""
        raise NotImplementedError

    def emit_unplaced(self, context: Context | None, records: list[dict]) -> list[dict]:
        """Of records whose replication value is missing, null or no timestamp, those to emit now.

        Such a record fits no time window and no bookmark can claim it, but an audit trail must not
        lose it: it is emitted as the API sent it, once per run and partition (several queries may
        return it: overlapping Alerts queries, the pieces of a busy window), named in one WARNING
        and counted in the run report (`unplaced`). Stopping the partition instead would stop it
        at that record on every run while the records after it age out of the API's retention.
        """
        partition = self.describe_partition(context)
        emitted = self._unplaced_emitted.setdefault(partition, set())
        primary_key, key = self.primary_keys[0], self.replication_key or ""
        fresh: list[dict] = []
        for record in records:
            record_key = record.get(primary_key)
            if record_key is not None and not isinstance(record_key, (dict, list)):
                if record_key in emitted:
                    continue
                emitted.add(record_key)
            fresh.append(record)
        if fresh:
            named = "; ".join(
                f"{primary_key} {record.get(primary_key)}: {key} {_shown(record, key)}" for record in fresh[:3]
            )
            self.logger.warning(
                "%s: %s: %d record(s) whose %s places them in no time window, emitted as the API sent them "
                "(no bookmark claims them): %s%s",
                self.name,
                partition,
                len(fresh),
                key,
                named,
                f"; and {len(fresh) - 3} more" if len(fresh) > 3 else "",
            )
            self.run_report.unplaced(self.name, partition, len(fresh))
        return fresh

    @property
    def page_size(self) -> int:
        return int(self.config["page_size"])

    #: Whether the API's date filter matches whole days (Monitor Events): a busy range is then
    #: read in day windows, not in pieces sized from its first page.
    day_granular_filter: t.ClassVar[bool] = False

    def window_contexts(self, context: Context | None, plan: WindowPlan) -> list[Context]:
        """What the partition reads first, all sharing its `FirstAnswer` (api_clock.py): one query
        for the whole plan (a probe: `BusyRangeStop` ends it after a first page that links more,
        and `range_windows` reads the range as windows instead), or, with one request at a time or
        a day-granular filter, the plan's windows, oldest first."""
        partition = {**(context or {}), CONTEXT_KEY: FirstAnswer()}
        if not plan.windows:
            return []
        if self.max_concurrent_requests > 1 and not (self.day_granular_filter and len(plan.windows) == 1):
            probe = self.window_context(partition, plan.windows[0][0], plan.windows[-1][1])
            return [{**probe, "probe": True, "split_if_busy": False}]
        return [self.window_context(partition, *window) for window in plan.windows]

    def range_windows(self, busy: BusyRange) -> list[Context]:
        """The windows of a range whose probe was busy, oldest first: pieces of about `PIECE_FILL`
        of a page each (from the estimate of its first page, on whole seconds) where that makes
        fewer windows than the plan's (`window_size`), else the plan's windows, each read in
        pieces when it is busy (`split_when_busy`), as where the first page tells nothing of the
        range's size or the filter matches whole days. The estimate extrapolates one page, which
        a burst makes far too high: the plan's windows bound what it can cost. Each window keeps
        its records within its own bounds, so each record is emitted by exactly one of them."""
        context = {key: value for key, value in busy.context.items() if key != "probe"}
        start, end = context["window_start"], context["window_end"]
        bounds = list(windows(start, end, self.window_size))
        if busy.estimate is not None and not self.day_granular_filter:
            shortest = max(MIN_PIECE, self.query_lead)
            count = range_piece_count(busy.estimate, end - start, shortest)
            one_window = len(bounds) == 1 and not self.query_lead
            if one_window:
                # The probe was the plan's one window: cut it at once as a busy window is cut
                # (`pieces_for`), rather than reading that window's first page again to split it.
                # Not where each window's query starts `query_lead` early (Alerts): windows would
                # each ask for theirs; `UnsortedWindowStream.range_windows` cuts that query instead.
                count = min(count, pieces_for(busy.estimate, self.max_concurrent_requests))
            if one_window or count < len(bounds):  # else as busy as day windows hold: those, each split when busy
                bounds = list(itertools.pairwise([start, *piece_bounds(start, end, count), end]))
        self.logger.debug(
            "%s: %s: the range from %s to %s holds more than a page: reading it as %d windows",
            self.name,
            self.describe_partition(context),
            format_timestamp(start),
            format_timestamp(end),
            len(bounds),
        )
        return [self.window_context(context, low, high) for low, high in bounds]

    def held_until_whole_page(self, records: Iterator[dict]) -> Iterator[dict]:
        """A probe's records, its first page held back until the probe is known not to be busy:
        a busy probe (`BusyRange`) emits nothing, its range is read again as windows."""
        held: list[dict] = []
        limit = self.page_size + (1 if self.is_sorted else 0)  # a sorted stream's page ends with a `PageEnd`
        for record in records:
            held.append(record)
            if len(held) > limit:  # a second page came: the probe pages on
                break
        yield from held
        yield from records

    def window_context(self, context: Context, start: dt.datetime, end: dt.datetime) -> Context:
        """Records of [start, end) are emitted; the request asks for `query_range` of it."""
        query_start, query_end = self.query_range(start, end)
        return {
            **context,
            "window_start": start,
            "window_end": end,
            "query_start": query_start,
            "query_end": query_end,
            "split_if_busy": self.splits_busy_windows and self.max_concurrent_requests > 1,
        }

    def commit_state(self, state: dict) -> None:
        """The partition's state now claims what it holds (every record of it written): STATE
        written when one is due (`StatePacing`), else kept for the next STATE."""
        if self.run.state_pacing.due():
            self.finalize_state_progress_markers(state)
        else:
            self._finalize_state(state)
            self.state_manager.is_flushed = False

    def window_records(self, window: Context) -> Iterable[dict]:
        """All records the API returns for one window; overridden where windows must split."""
        return self.request_records(window)

    @override
    def stop_policies(self) -> list[StopPolicy]:
        """A probe ends after a first page that links more (`BusyRangeStop`): its range is read as windows."""
        return [*super().stop_policies(), BusyRangeStop(self.page_size)]

    def read_range(
        self, context: Context | None, refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterator[list[dict]]:
        """The strategy: the plan's probe (or windows), and when the probe is busy the windows of
        its range, read, written and committed."""
        raise NotImplementedError

    def plan_reads(self, context: Context | None) -> tuple[WindowPlan, list[Context]]:
        plan = self.window_plan(context)
        return plan, self.window_contexts(context, plan)


class UnsortedWindowStream(TimeWindowStream):
    """Windows of records in no reliable order (newest first, or none), read as they are ready.

    Records are written as pages arrive, whichever window they belong to. The bookmark moves only
    over windows that are whole, from the oldest on (`WindowProgress`): a run killed at any moment
    resumes from there, and re-reads a window that was not whole. Records outside
    [window start, window end) are dropped here, because some filters are day-granular.
    """

    is_sorted = False

    bookmark_follows_each_record = False

    @override
    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """The newest value of each window is kept in `read_windows` and promoted in `commit_windows`."""

    #: Events of a partition held by a partition read ahead, at most (each holds a page at most).
    EVENTS_AHEAD: t.ClassVar[int] = 4

    @override
    def read_range(
        self, context: Context | None, refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterator[list[dict]]:
        """The partition's events, read now or ahead of time (partitions_ahead.py), written in
        turn; the next partitions are read meanwhile (`send_ahead`)."""
        ahead = self.partitions_ahead.take(context)
        if ahead is None:
            reads = self.plan_reads(context)[1]
            events: Iterable[WindowEvent] = self.partition_events(reads, refused)
        else:
            reads, events = ahead.reads, ahead.items
        self.send_ahead(context)
        try:
            yield from self.write_events(context, reads, events)
        finally:
            if ahead is not None:
                ahead.items.close()
                refused.extend(ahead.refused)

    @override
    def start_ahead(self, context: Context) -> Ahead | None:
        """A later partition planned now (plans read the state), its events read by a thread."""
        if self.run_report.refused(self.credential_of(context)):
            return None
        ahead = Ahead(self.plan_reads(context)[1])
        ahead.items = InBackground(
            lambda _: self.partition_events(ahead.reads, ahead.refused, lambda: self.partitions_ahead.busy_turn(ahead)),
            self.EVENTS_AHEAD,
            "partition-ahead",
        )
        return ahead

    def partition_events(
        self,
        reads: list[Context],
        refused: list[tuple[dt.datetime, dt.datetime]],
        busy_turn: Callable[[], bool] | None = None,
    ) -> Iterator[WindowEvent]:
        """The partition's windows as they are read (`read_as_ready`), in any thread; a busy probe
        (`BusyRange`) is followed by its range's windows (`Replanned`), then their events. A
        partition read ahead reads a busy range's windows on its `busy_turn` (partitions_ahead.py)."""
        read = functools.partial(self.read_window, refused=refused)
        size = int(self.config.get("page_size", 1000))
        try:
            yield from read_as_ready(reads, read, workers=self.max_concurrent_requests, chunk_size=size)
        except BusyRange as busy:
            windows = self.range_windows(busy)
            yield Replanned(windows)
            if busy_turn is None or busy_turn():
                yield from read_as_ready(windows, read, workers=self.max_concurrent_requests, chunk_size=size)

    def write_events(
        self, context: Context | None, windows: list[Context], events: Iterable[WindowEvent]
    ) -> Iterator[list[dict]]:
        """Each page's records inside its window, written; STATE as windows become whole from
        the oldest on (`commit_windows`)."""
        key, precision = self.replication_key or "", self.timestamp_precision
        shape, nines, placed = CANONICAL_SHAPES[precision], DIGITS_TO_NINES, placed_timestamp
        progress = WindowProgress()
        lines, report, partition = self.progress, self.run_report, self.describe_partition(context)
        lines.add_windows(len(windows))
        for event in events:
            if isinstance(event, Replanned):  # the probe was busy: its range is these windows
                windows, progress = event.windows, WindowProgress()
                lines.add_windows(len(windows) - 1)
                continue
            index, window, records = event
            if records is None:
                self.commit_windows(context, progress, index, windows)
                lines.window_whole()
                continue
            # Replication values made canonical here compare with the bounds as strings.
            low = format_timestamp(window["window_start"], precision)
            high = format_timestamp(window["window_end"], precision)
            page: list[dict] = []
            unplaced: list[dict] = []
            for record in records:
                value = record.get(key)
                # Rare: the APIs answer in the canonical form (and always with a value).
                if value.__class__ is not str or value.encode().translate(nines) != shape:
                    value = placed(value, precision)
                    if value is None:
                        unplaced.append(record)
                        continue
                    record[key] = value
                if low <= value < high:
                    page.append(record)
            newest = max(map(operator.itemgetter(key), page), default=None)
            if unplaced:
                page += self.emit_unplaced(context, unplaced)
            if page:
                yield page
                if newest is not None:
                    progress.note(index, newest)  # after the yield: the SDK has written the page
            # Counted per chunk, after the SDK wrote its records: nothing per record on the hot path.
            report.records(self.name, partition, len(page))
            lines.tick()
            records.clear()  # the worker that read the chunk holds it too: its records are freed now

    @override
    def read_window(self, window: Context, refused: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[dict]:
        """A window whose first page links another is read as pieces (busy_windows.py), at once
        when that page was its probe's (`range_windows`)."""
        pieces: list[Context] | None = window.get(PIECES_KEY)
        if pieces is not None:
            return _in_pieces(pieces)
        records = super().read_window(window, refused)
        if window.get("split_if_busy"):
            records = self.split_when_busy(records)
        ledger: SplitLedger | None = window.get("split")
        if ledger is not None:
            records = (record for record in records if ledger.admit(record))
        return records

    @override
    def stop_policies(self) -> list[StopPolicy]:
        """A busy window's first page ends its query: the rest is read as pieces (`split_when_busy`)."""
        policies = super().stop_policies()
        if self.splits_busy_windows:
            policies.append(BusyWindowStop(int(self.config["page_size"])))
        return policies

    @override
    def range_windows(self, busy: BusyRange) -> list[Context]:
        """A busy probe that was its plan's one window, where that window's query starts `query_lead`
        early (Alerts) or its first page tells nothing of its size: the probe was the window's own
        query, so the window is read at once as the pieces `split_when_busy` would cut it into after
        reading that first page again (`busy_pieces`: one lead, one `SplitLedger`, the window whole
        only when every piece is), which `read_window` hands out without a request."""
        context = {key: value for key, value in busy.context.items() if key != "probe"}
        start, end = context["window_start"], context["window_end"]
        if (self.query_lead or busy.estimate is None) and len(list(windows(start, end, self.window_size))) == 1:
            window = self.window_context(context, start, end)
            if window["split_if_busy"] and window["query_end"] - window["query_start"] > BOUNDARY_REACH:
                return [{**window, PIECES_KEY: self.busy_pieces(BusyWindow(window, busy.estimate))}]
        return super().range_windows(busy)

    def split_when_busy(self, records: Iterator[dict]) -> Iterator[dict]:
        """The records, or `ReadInPieces` after the first page of a busy query, whose records are
        held back (a piece reads them again)."""
        first_page: list[dict] = []
        page_size = int(self.config["page_size"])
        try:
            for record in records:
                first_page.append(record)
                if len(first_page) > page_size:  # a second page came: the query was not split
                    break
        except BusyWindow as busy:
            raise ReadInPieces(self.busy_pieces(busy)) from None
        yield from first_page
        yield from records

    def busy_pieces(self, busy: BusyWindow) -> list[Context]:
        """The pieces of a busy query: its query range cut on whole seconds, each piece keeping
        the window's bounds and sharing one `SplitLedger`."""
        context = busy.context
        start, end = context["query_start"], context["query_end"]
        cuts = piece_bounds(start, end, pieces_for(busy.estimate, self.max_concurrent_requests))
        ledger = context.get("split") or SplitLedger(
            self.primary_keys[0], self.filter_fields or (self.replication_key or "",), self.timestamp_precision
        )
        ledger.add_boundaries(cuts)
        bounds = [start, *cuts, end]
        self.logger.debug(
            "%s: %s: the query from %s to %s holds more than a page: reading it as %d queries at once",
            self.name,
            self.describe_partition(context),
            format_timestamp(start),
            format_timestamp(end),
            len(bounds) - 1,
        )
        return [
            {**context, "query_start": low, "query_end": high, "split": ledger}
            for low, high in itertools.pairwise(bounds)
        ]

    @override
    def rewind_to_committed(self, context: Context | None) -> None:
        """Windows not yet whole must not become the bookmark."""
        self.get_context_state(context).pop("progress_markers", None)

    def commit_windows(
        self, context: Context | None, progress: WindowProgress, index: int, windows: list[Context]
    ) -> None:
        """Window `index` is whole: move the bookmark over the windows now whole from the oldest on,
        and emit STATE.

        Runs only after the SDK has written every record those windows yielded, so STATE never
        claims a record that was not emitted. The bookmark never moves backwards.
        """
        grew, newest = progress.finish(index)
        if not grew:
            return
        self.note_read_through(context, windows[progress.whole.oldest_not_whole - 1])
        key = self.replication_key or ""
        state = self.get_context_state(context)
        previous = state.get("replication_key_value")
        # The state never holds an older value, not even for a moment (a SIGTERM writes it as is).
        if newest is not None and (not previous or parse_timestamp(newest) > parse_timestamp(previous)):
            self.state_manager.increment_state({key: newest}, context=context, replication_key=key)
        self.commit_state(state)


class PageEnd(dict[str, t.Any]):
    """Not a record: marks the end of a page in the stream of raw records.

    `SortedWindowStream.parse_response` yields it after a page's records. The SDK pulls it only
    when it asks for the record after the page's last one, that is after it has written every
    record of the page, so that is the moment a STATE may claim the page.
    """


class SortedWindowStream(TimeWindowStream):
    """Windows of records oldest first: read ahead, written in order, STATE after every page.

    STATE's bookmark is the replication value of the last record written, never more, and never
    lower than the bookmark the run started from. A resumed run starts at bookmark -
    lookback_window_minutes (inclusive), so records sharing the bookmark's instant that were on
    the next page are not lost; records read again (the lookback, or pages shifted by a record
    that arrived late) are skipped by their first primary key within a window.
    """

    is_sorted = True
    # The lookback re-reads records older than the bookmark on purpose, which the SDK's own
    # check would call unsorted; `read_windows` checks the order itself instead.
    check_sorted = False
    # STATE is written after every page; the SDK's every-10,000-records STATE is not needed.
    STATE_MSG_FREQUENCY = sys.maxsize
    #: How the request asks for oldest first, as the error for a record out of order names it.
    order_asked: t.ClassVar[str] = "oldest first"

    #: The bookmark of the last STATE written: what a failed read falls back to.
    _committed: dt.datetime | None = None

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        yield from super().parse_response(response)  # `validate_response` checked the list is there
        yield PageEnd()

    @override
    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """A record of the lookback is older than the bookmark, which never moves backwards."""
        value = latest_record.get(self.replication_key or "")
        if value.__class__ is not str or value.encode().translate(DIGITS_TO_NINES) != self._canonical_shape:
            return  # emitted without a usable replication value (`emit_unplaced`): claimed by no bookmark
        bookmark = self.get_context_state(context).get("replication_key_value")
        if bookmark is None or value > bookmark:
            super()._increment_stream_state(latest_record, context=context)

    @cached_property
    def _canonical_shape(self) -> bytes:
        return CANONICAL_SHAPES[self.timestamp_precision]

    @override
    def read_windows(
        self, context: Context | None, refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterator[list[dict]]:
        """Windows read ahead and written in order, a page at a time: STATE after each."""
        committed = self.bookmark(context)
        if committed is not None:
            # Canonical, so that `_increment_stream_state` compares records with it as strings.
            self.get_context_state(context)["replication_key_value"] = format_timestamp(
                committed, self.timestamp_precision
            )
        self._committed = committed
        return self.read_range(context, refused)

    @override
    def read_range(
        self, context: Context | None, refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterator[list[dict]]:
        _, reads = self.plan_reads(context)
        self.progress.add_windows(len(reads))
        try:
            yield from self.read_planned(context, reads, refused)
        except BusyRange as busy:
            reads = self.range_windows(busy)
            self.progress.add_windows(len(reads) - 1)
            yield from self.read_planned(context, reads, refused)

    def read_planned(
        self, context: Context | None, windows: list[Context], refused: list[tuple[dt.datetime, dt.datetime]]
    ) -> Iterator[list[dict]]:
        """Windows read ahead and written in order, a page at a time: STATE after each."""
        committed = self._committed
        key, primary_key = self.replication_key or "", self.primary_keys[0]
        newest: dt.datetime | None = None
        lines, report, partition = self.progress, self.run_report, self.describe_partition(context)
        # Windows whole and in order: STATE after a page claims every record written before it.
        for window, records in read_ahead(
            windows,
            functools.partial(self.read_window, refused=refused),
            workers=self.max_concurrent_requests,
            chunk_size=self.page_size + 1,  # a page and its PageEnd: STATE as soon as a page is written
        ):
            window_start, window_end = window["window_start"], window["window_end"]
            seen: set[str] = set()  # this window's primary keys
            page: list[dict] = []
            for record in records:
                if isinstance(record, PageEnd):
                    if page:
                        yield page
                    committed = self._committed = self.commit_page(context, committed)
                    report.records(self.name, partition, len(page))
                    page = []
                    lines.tick()
                    continue
                value = placed_timestamp(record.get(key), self.timestamp_precision)
                if value is None:
                    page += self.emit_unplaced(context, [record])
                    continue
                created = parse_timestamp(value)
                record_key = record.get(primary_key)
                if not window_start <= created < window_end or record_key in seen:
                    # Outside the window (the query may be wider), or read again
                    # because an event that arrived late shifted the pages.
                    continue
                if newest is not None and created < newest:
                    msg = (
                        f"{self.name}: GET {self.endpoint} returned {value} after "
                        f"{format_timestamp(newest, self.timestamp_precision)} although "
                        f"{self.order_asked} was asked; STATE could claim records not yet read, so "
                        "reading stops here."
                    )
                    if page:  # the page's records before this one are written, but not claimed
                        yield page
                    report.records(self.name, partition, len(page))
                    raise APIRequestError(msg)
                if record_key is not None:
                    seen.add(record_key)
                newest = created
                record[key] = value
                page.append(record)
            if page:  # not followed by a PageEnd (parse_response always sends one): written, not claimed
                yield page
                report.records(self.name, partition, len(page))
            self.note_read_through(context, window)  # its last page's PageEnd came after its last record
            lines.window_whole()

    @override
    def rewind_to_committed(self, context: Context | None) -> None:
        """The bookmark moved with each record written: back to the last page read whole."""
        state = self.get_context_state(context)
        if self._committed is None:
            state.pop("replication_key_value", None)
        else:
            state["replication_key_value"] = format_timestamp(self._committed, self.timestamp_precision)

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
        self.commit_state(state)
        return current
