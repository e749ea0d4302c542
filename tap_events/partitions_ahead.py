"""Partitions read at once: the partitions a stream reads next are read while the current one is
written.

A sparse partition is one request (its probe, windows.py), so a stream of 1,000 of them read one
after another is 1,000 round trips in a row; a busy one is windows read `max_concurrent_requests`
at once, which leave workers idle while its last windows finish. Here the main thread still takes
the partitions in order, alone writing their records and STATE (so no STATE claims a partition's
records before they are written, and progress lines and the run report stay per partition), but
the next `max_concurrent_requests` partitions are already being read, whole, each by a thread of
its own (`concurrency.InBackground`) into a small bounded queue: a partition ahead that filled its
queue waits, so memory stays bounded, and the requests of every partition wait for their
credential's `AdaptiveLimit` as any other (limits.py): the account's in-flight limit is shared by
all its partitions, and the Logs' limiter stays in front of theirs (serverless.py). What a
partition read ahead found, an error included, is handed over when its turn comes, exactly as if
it were read then. A run stopped or killed loses what was read ahead, as it loses windows in
flight: STATE never claimed it, so the next run reads it again.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    from singer_sdk.helpers.types import Context

    from tap_events.concurrency import InBackground

#: Busy partitions (read as windows, not one request) read ahead at once, at most: enough that the
#: account's requests in flight go on while one is written, few enough that the pages they hold
#: waiting for their turn stay few (a page of 1,000 events is megabytes once parsed).
BUSY_AHEAD = 3


def partition_key(context: t.Mapping[str, t.Any] | None) -> tuple[tuple[str, t.Any], ...]:
    return tuple(sorted((context or {}).items()))


@dataclass
class Ahead:
    """A partition being read ahead: what its plan reads first, the items read so far (pages of a
    list, a window stream's events; set once its thread starts), and the ranges it found refused
    as too old."""

    reads: list[Context] = field(default_factory=list)
    refused: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    items: InBackground[t.Any] = field(init=False)
    #: Its turn to be written has come (it is no longer ahead), or it was dropped.
    taken: bool = False
    reads_busy: bool = False


class PartitionsAhead:
    """The partitions of a stream being read ahead of the one being written, by partition."""

    def __init__(self, depth: int, busy: int = BUSY_AHEAD) -> None:
        self.depth = depth
        self.busy = busy
        self._ahead: dict[tuple[tuple[str, t.Any], ...], Ahead] = {}
        self._busy_reading = 0
        self._changed = threading.Condition()

    def take(self, context: Context | None) -> Ahead | None:
        """The partition's reads made ahead, if any (each taken once)."""
        ahead = self._ahead.pop(partition_key(context), None)
        if ahead is not None:
            self._end_turn(ahead)
        return ahead

    def drop(self, context: Context | None) -> None:
        """A partition not read after all (its credential was refused meanwhile): its reader stops."""
        ahead = self._ahead.get(partition_key(context))
        if ahead is not None:
            ahead.items.close()  # before its turn ends: a reader waiting for a busy turn reads no more
            self.take(context)

    def send(self, upcoming: Sequence[Context], start: Callable[[Context], Ahead | None]) -> None:
        """Start reading the partitions `upcoming`, in order, keeping at most `depth` ahead.
        `start` runs in the caller's thread (a plan reads the state) and starts the reading
        thread; None: nothing to read ahead for that partition."""
        for context in upcoming:
            key = partition_key(context)
            if key in self._ahead:
                continue
            if len(self._ahead) >= self.depth:
                return
            ahead = start(context)
            if ahead is not None:
                self._ahead[key] = ahead

    def busy_turn(self, ahead: Ahead) -> bool:
        """In a partition's reading thread, before the windows of its busy range: wait while
        `busy` other partitions ahead read theirs, unless its own turn to be written comes.
        False: it was dropped meanwhile, nothing more is to be read."""
        with self._changed:
            while self._busy_reading >= self.busy and not ahead.taken:
                self._changed.wait()
            if ahead.taken:
                return not ahead.items.stopped.is_set()
            self._busy_reading += 1
            ahead.reads_busy = True
            return True

    def _end_turn(self, ahead: Ahead) -> None:
        with self._changed:
            ahead.taken = True
            if ahead.reads_busy:
                ahead.reads_busy = False
                self._busy_reading -= 1
            self._changed.notify_all()

    def close(self) -> None:
        """No partition is left to read: what was read ahead for none is dropped."""
        for ahead in list(self._ahead.values()):
            ahead.items.close()
            self._end_turn(ahead)
        self._ahead.clear()
