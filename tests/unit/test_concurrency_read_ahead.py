"""Windows read in threads: in order and whole (`read_ahead`) or page by page as they arrive
(`read_as_ready`); either way every record once, at most `workers` at a time, and no worker
holds the run when it stops."""

from __future__ import annotations

import threading
import time

import pytest

from tap_events.concurrency import read_ahead, read_as_ready
from tap_events.windows import WindowProgress


def _slow_window(window: int):
    for index in range(25):
        time.sleep(0.001 * (5 - window % 5))  # later windows finish first
        yield (window, index)


def test_windows_and_their_records_come_out_in_order():
    seen = [(window, list(records)) for window, records in read_ahead(range(12), _slow_window, workers=4, chunk_size=4)]

    assert [window for window, _ in seen] == list(range(12))
    assert all(records == [(window, index) for index in range(25)] for window, records in seen)


def test_a_failing_window_raises_when_it_is_reached_not_before():
    def read(window: int):
        if window == 2:
            raise RuntimeError("window 2 failed")
        yield window

    consumed: list[int] = []

    def consume() -> None:
        for _window, records in read_ahead(range(6), read, workers=3, chunk_size=1):
            consumed.extend(records)

    with pytest.raises(RuntimeError, match="window 2 failed"):
        consume()
    assert consumed == [0, 1]


def test_abandoning_the_reader_releases_every_worker():
    def endless(window: int):
        index = 0
        while True:
            index += 1
            yield (window, index)

    def consume_a_little() -> None:
        reader = read_ahead(range(10), endless, workers=4, chunk_size=1)
        _, records = next(reader)
        next(iter(records))
        reader.close()  # what an exception or SIGTERM in the tap does

    thread = threading.Thread(target=consume_a_little)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "a worker kept the pool open"


def test_as_ready_every_record_once_each_window_marked_whole_after_its_records():
    seen = list(read_as_ready(range(12), _slow_window, workers=4, chunk_size=4))

    records = [record for _, _, chunk in seen if chunk is not None for record in chunk]
    assert sorted(records) == [(window, index) for window in range(12) for index in range(25)]
    for window in range(12):
        positions = [position for position, (index, _, _) in enumerate(seen) if index == window]
        assert seen[positions[-1]][2] is None, "the window's end came before its last records"
    assert [chunk for _, _, chunk in seen].count(None) == 12
    order = [index for index, _, chunk in seen if chunk is not None]
    assert order != sorted(order), "windows were not read at the same time"


@pytest.mark.parametrize("workers", [1, 4])
def test_a_reader_that_clears_each_chunk_it_has_taken_still_gets_every_record(workers):
    """The main thread empties a chunk once written, so that the worker holding it frees nothing late."""
    records = []
    for _, _, chunk in read_as_ready(range(6), _slow_window, workers=workers, chunk_size=4):
        if chunk is not None:
            records.extend(chunk)
            chunk.clear()

    assert sorted(records) == [(window, index) for window in range(6) for index in range(25)]


def test_as_ready_never_reads_more_windows_at_once_than_workers():
    lock = threading.Lock()
    active, peak = 0, 0

    def read(window: int):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            for index in range(3):
                time.sleep(0.005)
                yield (window, index)
        finally:
            with lock:
                active -= 1

    list(read_as_ready(range(20), read, workers=3, chunk_size=1))

    assert peak == 3


def test_as_ready_raises_a_failing_window_and_releases_every_worker():
    def read(window: int):
        if window == 2:
            raise RuntimeError("window 2 failed")
        index = 0
        while True:  # the other windows never end: only the stop releases their workers
            index += 1
            time.sleep(0.001)
            yield (window, index)

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="window 2 failed"):
        for _ in read_as_ready(range(6), read, workers=3, chunk_size=1):
            pass
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before, "a worker kept running after the reader stopped"


def test_window_progress_covers_only_windows_whole_from_the_first_on():
    progress = WindowProgress()
    progress.note(0, "2026-01-01T10:00:00Z")
    progress.note(1, "2026-01-02T10:00:00Z")
    progress.note(2, "2026-01-03T10:00:00Z")

    assert progress.finish(1) == (False, None)  # window 0 is still being read
    assert progress.finish(2) == (False, None)
    assert progress.finish(0) == (True, "2026-01-03T10:00:00Z")
    assert progress.finish(3) == (True, None)  # an empty window moves nothing


def test_as_ready_a_slow_window_holds_the_others_within_twice_the_workers_of_it():
    """Otherwise a slow first window would let every later one be written before any bookmark
    could cover them, and a kill would send them all again."""
    started: list[int] = []
    started_while_window_0_was_read: list[int] = []

    def read(window: int):
        started.append(window)
        if window == 0:
            for index in range(30):
                time.sleep(0.01)
                yield (window, index)
            started_while_window_0_was_read.extend(started)
        else:
            yield (window, 0)

    records = [chunk for _, _, chunk in read_as_ready(range(40), read, workers=4, chunk_size=1) if chunk]

    assert len(records) == 30 + 39
    assert max(started_while_window_0_was_read) == 7  # windows 1..7 went on, window 8 waited
