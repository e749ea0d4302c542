"""Windows read ahead in threads come out in order, whole, and never hold the run when it stops."""

from __future__ import annotations

import threading
import time

import pytest

from tap_events.prefetch import read_ahead


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
