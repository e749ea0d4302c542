"""Reading several windows at once.

Latency, not CPU, bounds a backfill over a real network: each page costs a round trip, and the
pages of one window form a chain (each names the next). Windows are independent queries, so up
to `max_concurrent_requests` of them are read by worker threads at once. Buffers hold a few pages
per worker at most, so memory stays flat however long the range or a window is. Workers are
daemon threads, given a second to finish on a stop: one waiting out a retry never holds the
process open for longer.

- `read_as_ready`: pages in the order they arrive, whichever window they belong to. Every worker
  keeps a request in flight, even when windows hold many pages. For streams whose bookmark moves
  only when a whole window is done, and only over the windows before it (`UnsortedWindowStream`);
  no window starts more than `2 * workers` past the oldest one not yet whole, which bounds what a
  killed run reads again.
- `read_ahead`: windows in the order given, each whole before the next. For a sorted stream that
  claims every record written so far (`SortedWindowStream`, Telnyx). The windows after the current one can only read
  as far ahead as their buffers, so a long window is read one request at a time.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import queue
import threading
import time
import typing as t
from collections import deque

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

T = t.TypeVar("T")
W = t.TypeVar("W")

_DONE = object()
_POLL_SECONDS = 0.1


def _put(chunks: queue.Queue[t.Any], item: t.Any, stopped: threading.Event) -> bool:
    """Wait for room in the queue unless the reader has stopped; whether the item went in."""
    while not stopped.is_set():
        try:
            chunks.put(item, timeout=_POLL_SECONDS)
        except queue.Full:
            continue
        return True
    return False


def chunked(records: Iterable[T], size: int, stopped: threading.Event) -> Iterator[list[T]]:
    """Records in lists of `size` (a page), each filled in C (`list.extend`, which keeps what it
    took before an exception); the stop flag is checked after each list, so a worker stops
    without asking for more than another page."""
    records = iter(records)
    while True:
        chunk: list[T] = []
        try:
            chunk.extend(itertools.islice(records, size))
        except ReadInPieces:
            if chunk:  # the records read before the window split are delivered
                yield chunk
            raise
        full = len(chunk) == size  # before the yield: the reader may clear a chunk it has taken
        if chunk:
            yield chunk
        if not full or stopped.is_set():
            return


class WholeWindows:
    """Which windows are whole, as indices in the order the windows were given."""

    def __init__(self) -> None:
        self.oldest_not_whole = 0
        self._whole: set[int] = set()

    def add(self, index: int) -> list[int]:
        """Window `index` is whole: the windows that are now whole from the first on, and were not."""
        self._whole.add(index)
        covered = []
        while self.oldest_not_whole in self._whole:
            self._whole.remove(self.oldest_not_whole)
            covered.append(self.oldest_not_whole)
            self.oldest_not_whole += 1
        return covered


class ReadInPieces(Exception):
    """Raised by a window's reader after its records: the rest of the window is read as these
    pieces, concurrently, and the window is whole only when every piece is (pieces may raise it
    again). A busy window's first page shows more pages to come: its parts are independent queries."""

    def __init__(self, pieces: list[t.Any]) -> None:
        super().__init__(f"read in {len(pieces)} pieces")
        self.pieces = pieces


class _Schedule(t.Generic[W]):
    """What the workers of `read_as_ready` take next: the pieces of windows already started
    (oldest window first), else the next window while it is within the lead of the oldest one
    not yet whole. A window is whole when its own read and every piece of it are done."""

    def __init__(self, windows: Iterable[W], lead: int) -> None:
        self.changed = threading.Condition()
        self.whole = WholeWindows()
        self._upcoming = enumerate(windows)
        self._next: tuple[int, W] | None = next(self._upcoming, None)
        self._pieces: list[tuple[int, int, W]] = []  # a heap of (window index, order, piece)
        self._order = 0
        self._open: dict[int, int] = {}  # window index -> reads not yet done
        self._windows: dict[int, W] = {}
        self._lead = lead

    def take(self, stopped: threading.Event) -> tuple[int, W] | None:
        """The next read, waiting while none may start yet; None when every window is read."""
        with self.changed:
            while not stopped.is_set():
                if self._pieces:
                    index, _, piece = heapq.heappop(self._pieces)
                    return index, piece
                if self._next is not None:
                    index, window = self._next
                    if index < self.whole.oldest_not_whole + self._lead:
                        self._next = next(self._upcoming, None)
                        self._open[index], self._windows[index] = 1, window
                        return index, window
                elif not self._open:
                    return None
                # Wait for a window to become whole, or for pieces (the oldest window not yet
                # whole is always being read: no deadlock).
                self.changed.wait(_POLL_SECONDS)
            return None

    def split(self, index: int, pieces: list[W]) -> None:
        with self.changed:
            for piece in pieces:
                heapq.heappush(self._pieces, (index, self._order, piece))
                self._order += 1
            self._open[index] += len(pieces)
            self.changed.notify_all()

    def done(self, index: int) -> W | None:
        """One read of window `index` is done: the window, if that made it whole."""
        with self.changed:
            self._open[index] -= 1
            if self._open[index]:
                return None
            del self._open[index]
            self.changed.notify_all()
            return self._windows.pop(index)

    def seen_whole(self, index: int) -> None:
        """The caller has taken window `index` whole."""
        with self.changed:
            self.whole.add(index)
            self.changed.notify_all()


class _Demand:
    """How many workers may hold a page the caller has not taken yet, from its request on.

    All of them while the caller waits for pages (latency-bound: every worker keeps a request in
    flight), one fewer each time a page waits for the caller (CPU-bound: more readers would only
    contend with the caller for the interpreter, and hold pages in memory). So a run over a fast
    network holds a few pages and threads busy, a run over a slow one `workers` requests in flight.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._limit = workers
        self._held = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def holding(self, stopped: threading.Event) -> Iterator[None]:
        with self._changed:
            while self._held >= self._limit and not stopped.is_set():
                self._changed.wait(_POLL_SECONDS)
            self._held += 1
        try:
            yield
        finally:
            with self._changed:
                self._held -= 1
                self._changed.notify()

    def put(self, ready: queue.Queue[t.Any], item: t.Any, stopped: threading.Event) -> bool:
        """Into the queue, waiting if it is full; a full queue means one reader fewer is enough."""
        try:
            ready.put_nowait(item)
        except queue.Full:
            with self._changed:
                self._limit = max(1, self._limit - 1)
            return _put(ready, item, stopped)
        return True

    def starved(self) -> None:
        """The caller waits for a page: one more reader."""
        with self._changed:
            if self._limit < self._workers:
                self._limit += 1
                self._changed.notify()


def read_as_ready(
    windows: Iterable[W],
    read: Callable[[W], Iterable[T]],
    *,
    workers: int,
    chunk_size: int,
    chunks_buffered: int = 2,
) -> Iterator[tuple[int, W, list[T] | None]]:
    """(index, window or piece, records) as they arrive, and (index, window, None) once a window
    (with every piece of it, `ReadInPieces`) is whole.

    Windows are started in the order given, each by the first free worker, but never more than
    `2 * workers` past the oldest window the caller has not seen whole: a slow window does not
    let the others run far ahead of what a bookmark can cover. Pieces of a window started go
    before new windows. An error in any window is raised at once.
    """
    stopped = threading.Event()
    if workers <= 1:
        for index, window in enumerate(windows):
            reads = [window]
            while reads:
                current = reads.pop()
                try:
                    for chunk in chunked(read(current), chunk_size, stopped):
                        yield index, current, chunk
                except ReadInPieces as split:
                    reads.extend(reversed(split.pieces))
            yield index, window, None
        return
    windows = list(windows)
    schedule: _Schedule[W] = _Schedule(windows, lead=2 * workers)
    ready: queue.Queue[t.Any] = queue.Queue(maxsize=chunks_buffered)
    demand = _Demand(workers)
    threads: list[threading.Thread] = []
    starting = threading.Lock()

    def start_workers(count: int) -> None:
        """Up to `count` more workers, never more than `workers`: a partition of one query (most
        are) starts one thread, not `workers`; its pieces, if it splits, start the rest."""
        with starting:
            if stopped.is_set():
                return
            for _ in range(min(count, workers - len(threads))):
                thread = threading.Thread(target=work, name=f"window-{len(threads)}", daemon=True)
                threads.append(thread)  # before it can finish: the reader counts it as running
                thread.start()

    def work() -> None:
        try:
            while (taken := schedule.take(stopped)) is not None:
                index, window = taken
                chunks = chunked(read(window), chunk_size, stopped)
                try:
                    while True:
                        with demand.holding(stopped):  # from the request to the queue
                            chunk = next(chunks, None)
                            if chunk is None:
                                break
                            if not demand.put(ready, (index, window, chunk), stopped):
                                return
                except ReadInPieces as split:
                    schedule.split(index, split.pieces)
                    start_workers(len(split.pieces))
                whole = schedule.done(index)
                if whole is not None and not _put(ready, (index, whole, None), stopped):
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            _put(ready, exc, stopped)
        finally:
            _put(ready, _DONE, stopped)

    finished = 0
    try:
        start_workers(len(windows))
        while finished < len(threads):
            try:
                item = ready.get_nowait()
            except queue.Empty:
                demand.starved()
                item = ready.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
                index, _, records = item
                if records is None:  # the caller is done with the whole window
                    schedule.seen_whole(index)
    finally:
        stopped.set()  # stopped early (an error, SIGTERM) or done: release every worker
        with schedule.changed:
            schedule.changed.notify_all()  # now, not at the next poll of those waiting for a window
        with starting:  # no worker starts another after this
            started = list(threads)
        _join(started)


def _join(threads: list[threading.Thread], seconds: float = 1.0) -> None:
    """Give workers a moment to finish their request, so that none still logs at interpreter exit."""
    deadline = time.monotonic() + seconds
    for thread in threads:
        if thread.ident is not None:
            thread.join(max(0.0, deadline - time.monotonic()))


class InBackground(t.Generic[T]):
    """The items of an iterable taken by a daemon thread into a small bounded queue, ahead of the
    caller: a window read ahead (`read_ahead`), a later partition read while the current one is
    written (partitions_ahead.py). An error is raised to the caller where it was met; `close`
    stops the thread at its next item, and the iterable is closed (its own workers released)."""

    def __init__(self, items: Callable[[threading.Event], Iterable[T]], buffered: int, name: str) -> None:
        self.stopped = threading.Event()
        self._queue: queue.Queue[t.Any] = queue.Queue(maxsize=buffered)
        self.thread = threading.Thread(target=self._fill, args=(items,), name=name, daemon=True)
        self.thread.start()

    def _fill(self, make: Callable[[threading.Event], Iterable[T]]) -> None:
        items = None
        try:
            items = make(self.stopped)
            for item in items:
                if not _put(self._queue, item, self.stopped):
                    return
            _put(self._queue, _DONE, self.stopped)
        except BaseException as exc:  # handed to the reading thread, which raises it
            _put(self._queue, exc, self.stopped)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stopped.set()


def flattened(chunks: Iterable[list[T]]) -> Iterator[T]:
    for chunk in chunks:
        yield from chunk
        chunk.clear()  # taken: the worker holds the list too, not its records any more


def read_ahead(
    windows: Iterable[W],
    read: Callable[[W], Iterable[T]],
    *,
    workers: int,
    chunk_size: int,
    chunks_buffered: int = 2,
) -> Generator[tuple[W, Iterable[T]], None, None]:
    """Each window with its records, in the order given, the next ones read ahead in threads."""
    if workers <= 1:
        for window in windows:
            yield window, read(window)
        return
    upcoming = iter(windows)
    pending: deque[tuple[W, InBackground[list[T]]]] = deque()
    threads: list[threading.Thread] = []

    def start(window: W) -> None:
        records = read(window)
        feed: InBackground[list[T]] = InBackground(
            lambda stopped: chunked(records, chunk_size, stopped), chunks_buffered, "window"
        )
        threads.append(feed.thread)
        pending.append((window, feed))

    current: InBackground[list[T]] | None = None
    try:
        for window in upcoming:
            start(window)
            if len(pending) >= workers:
                break
        while pending:
            window, current = pending.popleft()
            yield window, flattened(current)
            next_window = next(upcoming, None)
            if next_window is not None:
                start(next_window)
    finally:
        # Done, or stopped early (an error, SIGTERM): release every worker.
        for feed in [current, *(feed for _, feed in pending)]:
            if feed is not None:
                feed.close()
        _join([thread for thread in threads if thread.is_alive()])
