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


def _chunks(records: Iterable[T], size: int, stopped: threading.Event) -> Iterator[list[T]]:
    """Records in lists of `size`; the stop flag is checked before each record, so a worker
    stops without asking for another page."""
    chunk: list[T] = []
    for record in records:
        if stopped.is_set():
            return
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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


def read_as_ready(
    windows: Iterable[W],
    read: Callable[[W], Iterable[T]],
    *,
    workers: int,
    chunk_size: int,
    chunks_buffered: int = 2,
) -> Iterator[tuple[int, W, list[T] | None]]:
    """(index, window, records) as they arrive, and (index, window, None) once a window is whole.

    Windows are started in the order given, each by the first free worker, but never more than
    `2 * workers` past the oldest window the caller has not seen whole: a slow window does not
    let the others run far ahead of what a bookmark can cover. An error in any window is raised
    at once.
    """
    stopped = threading.Event()
    if workers <= 1:
        for index, window in enumerate(windows):
            for chunk in _chunks(read(window), chunk_size, stopped):
                yield index, window, chunk
            yield index, window, None
        return
    upcoming = enumerate(windows)
    taking = threading.Lock()
    ready: queue.Queue[t.Any] = queue.Queue(maxsize=workers * chunks_buffered)
    lead = 2 * workers
    seen_whole = threading.Condition()
    whole = WholeWindows()

    def work() -> None:
        try:
            while not stopped.is_set():
                with taking:
                    index, window = next(upcoming, (-1, None))
                if index < 0:
                    return
                with seen_whole:  # the oldest window not yet whole is always being read: no deadlock
                    while index >= whole.oldest_not_whole + lead and not stopped.is_set():
                        seen_whole.wait(_POLL_SECONDS)
                for chunk in _chunks(read(t.cast("W", window)), chunk_size, stopped):
                    if not _put(ready, (index, window, chunk), stopped):
                        return
                if not _put(ready, (index, window, None), stopped):
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            _put(ready, exc, stopped)
        finally:
            _put(ready, _DONE, stopped)

    threads = [threading.Thread(target=work, name=f"window-{number}", daemon=True) for number in range(workers)]
    running = workers
    try:
        for thread in threads:
            thread.start()
        while running:
            item = ready.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
                index, _, records = item
                if records is None:  # the caller is done with the whole window
                    with seen_whole:
                        whole.add(index)
                        seen_whole.notify_all()
    finally:
        stopped.set()  # stopped early (an error, SIGTERM) or done: release every worker
        _join(threads)


def _join(threads: list[threading.Thread], seconds: float = 1.0) -> None:
    """Give workers a moment to finish their request, so that none still logs at interpreter exit."""
    deadline = time.monotonic() + seconds
    for thread in threads:
        if thread.ident is not None:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Feed(t.Generic[T]):
    """One window read by a worker into a small bounded queue of chunks."""

    def __init__(self, chunk_size: int, chunks_buffered: int) -> None:
        self.chunks: queue.Queue[t.Any] = queue.Queue(maxsize=chunks_buffered)
        self.chunk_size = chunk_size
        self.stopped = threading.Event()

    def fill(self, records: Iterable[T]) -> None:
        try:
            for chunk in _chunks(records, self.chunk_size, self.stopped):
                if not _put(self.chunks, chunk, self.stopped):
                    return
            _put(self.chunks, _DONE, self.stopped)
        except BaseException as exc:  # handed to the reading thread, which raises it
            _put(self.chunks, exc, self.stopped)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self.chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item


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
    pending: deque[tuple[W, _Feed[T]]] = deque()
    threads: list[threading.Thread] = []

    def start(window: W) -> None:
        feed: _Feed[T] = _Feed(chunk_size, chunks_buffered)
        threads.append(threading.Thread(target=feed.fill, args=(read(window),), name="window", daemon=True))
        pending.append((window, feed))
        threads[-1].start()

    current: _Feed[T] | None = None
    try:
        for window in upcoming:
            start(window)
            if len(pending) >= workers:
                break
        while pending:
            window, current = pending.popleft()
            yield window, current
            next_window = next(upcoming, None)
            if next_window is not None:
                start(next_window)
    finally:
        # Done, or stopped early (an error, SIGTERM): release every worker.
        for feed in [current, *(feed for _, feed in pending)]:
            if feed is not None:
                feed.stopped.set()
        _join([thread for thread in threads if thread.is_alive()])
