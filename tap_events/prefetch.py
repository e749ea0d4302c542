"""Reading the next windows while the current one is emitted.

Latency, not CPU, bounds a backfill over a real network: each page costs a round trip. Windows
are independent queries, so up to `max_concurrent_requests` of them are fetched by worker
threads while the records of the oldest one are emitted in order, window by window. Each
window's buffer holds a few pages at most, so memory stays flat however long the range is.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from collections import deque
from concurrent.futures import ThreadPoolExecutor

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

T = t.TypeVar("T")
W = t.TypeVar("W")

_DONE = object()


class _Feed(t.Generic[T]):
    """One window read by a worker into a small bounded queue of chunks."""

    def __init__(self, chunk_size: int, chunks_buffered: int) -> None:
        self.chunks: queue.Queue[t.Any] = queue.Queue(maxsize=chunks_buffered)
        self.chunk_size = chunk_size
        self.stopped = threading.Event()

    def _put(self, item: t.Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def fill(self, records: Iterable[T]) -> None:
        try:
            chunk: list[T] = []
            for record in records:
                if self.stopped.is_set():
                    return
                chunk.append(record)
                if len(chunk) >= self.chunk_size:
                    if not self._put(chunk):
                        return
                    chunk = []
            if chunk and not self._put(chunk):
                return
            self._put(_DONE)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)

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
) -> Iterator[tuple[W, Iterable[T]]]:
    """Each window with its records, in the order given, the next ones read ahead in threads."""
    if workers <= 1:
        for window in windows:
            yield window, read(window)
        return
    upcoming = iter(windows)
    pending: deque[tuple[W, _Feed[T]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="window") as pool:

        def start(window: W) -> None:
            feed: _Feed[T] = _Feed(chunk_size, chunks_buffered)
            pool.submit(feed.fill, read(window))
            pending.append((window, feed))

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
            # Stopped early (an error, SIGTERM): release every worker, or the pool would wait for ever.
            for feed in [current, *(feed for _, feed in pending)]:
                if feed is not None:
                    feed.stopped.set()
            pool.shutdown(wait=False, cancel_futures=True)
