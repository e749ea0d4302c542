"""Windows of an API with a per-query result cap, read in halves until every query is whole."""

from __future__ import annotations

import collections
import datetime as dt
import typing as t

from typing_extensions import override

from tap_events.errors import ResultCapError, ResultCapReached
from tap_events.stop_policies import ResultCapStop
from tap_events.timestamps import (
    ONE_SECOND,
    ceil_second,
    floor_second,
    format_timestamp,
    parse_timestamp,
    placed_timestamp,
)
from tap_events.windows import UnsortedWindowStream

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context

    from tap_events.stop_policies import StopPolicy


class ResultCapSplitting(UnsortedWindowStream):
    """Windows of an API that serves at most `result_cap` results per query are read in
    smaller queries until every query is served whole.

    How the cap shows itself differs: Serverless Logs stop silently at the cap
    (`cap_is_silent`); Alerts refuse, with HTTP 400, any page that reaches past it
    (`refuses_for_result_cap`). A query is known to be capped when its pages reach
    `result_cap` and the API links another page (or, when the cap is silent, reach it at all),
    or when the API refuses a page: the next page is not asked for, and the query's range is
    split in two halves on a whole second, recursively, down to `min_split` (`_read_window`).

    The query range is what is split, not only the window: a query may reach before its
    window (`query_lead`, the Alerts buffering lead), and a burst there must not make every
    later window split down to single seconds.

    Records are emitted as they arrive, so splitting never holds a window in memory: a piece
    skips the SIDs already emitted that it can return, at most `result_cap` per level of
    splitting plus those of a `query_lead`. (Twilio gives no total count, so finding the cap
    means reading to it; probing first would cost the same pages and hold 10,000 records.)
    All state is local to the call, so windows may be read concurrently.
    """

    result_cap: t.ClassVar[int] = 10_000
    cap_is_silent: t.ClassVar[bool] = False
    #: What the records are called in messages ("logs", "alerts").
    records_noun: t.ClassVar[str] = "records"
    #: Filters are sent to the second, so nothing shorter than this can be asked for.
    min_split: t.ClassVar[dt.timedelta] = ONE_SECOND

    @override
    def stop_policies(self) -> list[StopPolicy]:
        """A query that reaches the cap ends with `ResultCapReached`, before any other policy is asked."""
        return [ResultCapStop(self.name, self.result_cap, silent=self.cap_is_silent), *super().stop_policies()]

    @override
    def window_records(self, window: Context) -> Iterator[dict]:
        """Every record of the window exactly once, however many the window holds."""
        yield from self._read_window(window, known={})

    def _read_window(self, window: Context, known: dict[str, dt.datetime]) -> Iterator[dict]:
        """Records of [window_start, window_end) that are not in `known`, from one query of
        [query_start, query_end), or from two of its halves if it is capped.

        `known` holds the SIDs already emitted that this query can return; what the call
        emits is added to it, so that a later piece of the same window skips them.
        """
        start, end = window["window_start"], window["window_end"]
        key = self.replication_key or ""
        seconds: collections.Counter[dt.datetime] = collections.Counter()  # to name a second that is too full
        try:
            for record in self.request_records(window):
                value, sid = placed_timestamp(record.get(key), self.timestamp_precision), record.get("sid")
                if value is None:
                    yield record  # placed in no window: `emit_unplaced` (read_windows) emits it once
                    continue
                created = parse_timestamp(value)
                seconds[floor_second(created)] += 1
                if sid and sid not in known and start <= created < end:
                    known[sid] = created
                    yield record
        except ResultCapReached as reached:
            busiest = seconds.most_common(1)[0][0] if seconds else floor_second(window["query_start"])
            how = str(reached).removeprefix(f"{self.name}: ")
        else:
            return
        for piece in self._pieces(window, busiest, how):
            inside = {sid: when for sid, when in known.items() if piece["window_start"] <= when < piece["window_end"]}
            yield from self._read_window(piece, inside)
            # Only records from the piece's last second on can come back from a later query.
            boundary = floor_second(piece["query_end"])
            known.update((sid, when) for sid, when in inside.items() if when >= boundary)

    def _pieces(self, window: Context, busiest: dt.datetime, how: str) -> list[Context]:
        """The halves of a capped query's range, each with the part of the window it can return.

        A query of [q0, q1) on the API's filter field returns records of [q0, q1 + lead + 1 s)
        (bounds are sent to the second, the end inclusive): records are never created before
        they are generated.
        """
        start, end = window["window_start"], window["window_end"]
        query_start, query_end = window["query_start"], window["query_end"]
        middle = self._split_point(query_start, query_end)
        if middle is None:
            precision = self.timestamp_precision
            msg = (
                f"{self.name}: {self.describe_partition(window)}: the second {format_timestamp(busiest)} holds "
                f"too many {self.records_noun}: the query from {format_timestamp(query_start, precision)} to "
                f"{format_timestamp(query_end, precision)} still reaches Twilio's cap of {self.result_cap} "
                f"{self.records_noun} per query and cannot be split below {self.min_split.total_seconds():g} s; "
                f"stopping rather than losing {self.records_noun} (the bookmark stays before this window). "
                f"The last query: {how}."
            )
            raise ResultCapError(msg)
        self.logger.info(
            "%s: the query from %s to %s reached the cap of %d %s per query; reading it in two halves",
            self.name,
            format_timestamp(query_start, self.timestamp_precision),
            format_timestamp(query_end, self.timestamp_precision),
            self.result_cap,
            self.records_noun,
        )
        self.run_report.window_split(self.name, self.describe_partition(window))
        reach = self.query_lead + ONE_SECOND
        return [
            {
                **window,
                "window_start": max(start, piece_start),
                "window_end": min(end, piece_end + reach),
                "query_start": piece_start,
                "query_end": piece_end,
                # Its `known` SIDs hold only while the halves are read one after the other.
                "split_if_busy": False,
                # A half is no probe: its records are emitted as they come.
                "probe": False,
            }
            for piece_start, piece_end in ((query_start, middle), (middle, query_end))
        ]

    def _split_point(self, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
        """A whole second strictly inside (start, end), near the middle; None if too short."""
        if end - start <= self.min_split:
            return None
        middle = floor_second(start + (end - start) / 2)
        if middle <= start:
            middle = ceil_second(start + ONE_SECOND / 1000)
        return middle if start < middle < end else None
