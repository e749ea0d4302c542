"""Partitions read at once: the first query (the probe) of the partitions a stream reads next is
sent while the current one is read and written.

A sparse partition is one request (its probe, windows.py), so a stream of 1,000 of them read one
after another is 1,000 round trips in a row. The main thread still takes the partitions in order,
alone writing their records and STATE (so no STATE claims a partition's records before they are
written, and progress lines and the run report stay per partition), but the probes of the next
`max_concurrent_requests` partitions are already in flight: each read by a worker here up to its
first page held back (`TimeWindowStream.read_window`), and the rest of it, if any, read when its
partition's turn comes. Requests wait for their credential's `AdaptiveLimit` as any other
(limits.py), shared by every partition of the account, and the Logs' limiter stays in front of
theirs (serverless.py). What a probe read ahead found, an error included, is handed over when its
partition's turn comes, exactly as if the probe had been read then.
"""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import Future
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator, Sequence

    from singer_sdk.helpers.types import Context

    from tap_events.window_plan import WindowPlan

#: The context key of a probe read ahead: its `Future[Fetched]`.
CONTEXT_KEY = "read_ahead"


def partition_key(context: t.Mapping[str, t.Any] | None) -> tuple[tuple[str, t.Any], ...]:
    return tuple(sorted((context or {}).items()))


@dataclass
class Fetched:
    """A probe read ahead: the records taken so far, the rest (None: read whole), the error that
    ended it, the ranges refused as too old."""

    records: list[dict]
    rest: Iterator[dict] | None = None
    error: BaseException | None = None
    refused: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)


def fetch(records: Iterator[dict], refused: list[tuple[dt.datetime, dt.datetime]], limit: int) -> Fetched:
    """At most `limit` records of a probe (its first page and a little), the rest left to read."""
    taken: list[dict] = []
    try:
        for record in records:
            taken.append(record)
            if len(taken) >= limit:
                return Fetched(taken, records, None, refused)
    except Exception as exc:  # handed over with the partition, and raised there
        return Fetched(taken, None, exc, refused)
    return Fetched(taken, None, None, refused)


def handed_over(fetched: Fetched, refused: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[dict]:
    """The probe's records as if it were read now: what was taken, the error, or the rest."""
    refused.extend(fetched.refused)
    yield from fetched.records
    if fetched.error is not None:
        raise fetched.error
    if fetched.rest is not None:
        yield from fetched.rest


class ProbesAhead:
    """The plans and probes of the partitions a stream reads next, by partition."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._planned: dict[tuple[tuple[str, t.Any], ...], tuple[WindowPlan | None, list[Context]]] = {}

    def take(self, context: Context | None) -> tuple[WindowPlan | None, list[Context]] | None:
        """The plan and reads made ahead for this partition, if any (each taken once)."""
        return self._planned.pop(partition_key(context), None)

    def send(
        self,
        upcoming: Sequence[Context],
        plan: Callable[[Context], tuple[WindowPlan | None, list[Context]] | None],
        read: Callable[[Context], Fetched],
    ) -> None:
        """Plan the partitions `upcoming` (in the caller's thread: plans read the state) and send
        the probe of each whose plan is one, keeping at most `workers` partitions ahead."""
        for context in upcoming:
            key = partition_key(context)
            if key in self._planned:
                continue
            if len(self._planned) >= self.workers:
                return
            planned = plan(context)
            if planned is None:
                continue
            window_plan, reads = planned
            if len(reads) == 1 and reads[0].get("probe"):
                reads = [{**reads[0], CONTEXT_KEY: started(read, reads[0])}]
            self._planned[key] = (window_plan, reads)

    def close(self) -> None:
        """No partition is left to read: what was sent ahead for none is dropped."""
        self._planned.clear()


def started(read: Callable[[Context], Fetched], probe: Context) -> Future[Fetched]:
    """`read(probe)` in a daemon thread (one per partition ahead, at most `workers` at once): like
    the window workers (concurrency.py), none holds the process open after a stop."""
    future: Future[Fetched] = Future()

    def run() -> None:
        try:
            future.set_result(read(probe))
        except BaseException as exc:  # handed over with the partition
            future.set_exception(exc)

    threading.Thread(target=run, name="probe-ahead", daemon=True).start()
    return future
