"""Partitions read ahead of the one being written (partitions_ahead.py): one thread for a window
of one query, at most `busy` busy partitions reading their windows ahead at once, a partition whose
turn has come never waits for one, and one dropped reads nothing more."""

from __future__ import annotations

import threading
import typing as t

from tap_events.concurrency import InBackground, ReadInPieces, read_as_ready
from tap_events.partitions_ahead import Ahead, PartitionsAhead


def _window_threads() -> int:
    return sum(thread.name.startswith("window-") for thread in threading.enumerate())


def test_a_single_window_is_read_by_one_thread_its_pieces_by_the_rest():
    counted: list[int] = []

    def read(window: str):
        counted.append(_window_threads())
        if window == "whole":
            raise ReadInPieces(["piece-1", "piece-2", "piece-3"])
        yield window

    alone = [records for _, _, records in read_as_ready(["single"], read, workers=8, chunk_size=10)]
    assert alone == [["single"], None]
    assert counted == [1]

    counted.clear()
    split = [records for _, _, records in read_as_ready(["whole"], read, workers=8, chunk_size=10) if records]
    assert sorted(record for records in split for record in records) == ["piece-1", "piece-2", "piece-3"]
    assert max(counted) > 1  # the pieces were read by workers started for them


def _until(condition: t.Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        deadline.wait(0.01)
    raise AssertionError("not reached in time")


def _ahead(partitions: PartitionsAhead, name: str, started: list[str], release: threading.Event) -> Ahead:
    ahead = Ahead([{"name": name}])

    def events(_stopped: threading.Event):
        if partitions.busy_turn(ahead):
            started.append(name)
            release.wait(10)
            yield name

    ahead.items = InBackground(events, 2, f"ahead-{name}")
    return ahead


def test_at_most_busy_partitions_ahead_read_their_windows_and_a_taken_one_never_waits():
    partitions = PartitionsAhead(depth=4, busy=2)
    started: list[str] = []
    release = threading.Event()
    names = ["a", "b", "c", "d"]
    partitions.send(
        [{"name": name} for name in names], lambda context: _ahead(partitions, context["name"], started, release)
    )
    _until(lambda: len(started) == 2)
    threading.Event().wait(0.2)
    assert len(started) == 2, "two busy partitions read ahead, the others wait for a turn"

    waiting = next(name for name in names if name not in started)
    taken = partitions.take({"name": waiting})  # its turn to be written has come
    assert taken is not None
    release.set()
    assert list(taken.items) == [waiting]
    partitions.close()


def test_a_partition_dropped_while_it_waits_for_a_busy_turn_reads_nothing():
    partitions = PartitionsAhead(depth=3, busy=1)
    started: list[str] = []
    release = threading.Event()
    partitions.send(
        [{"name": "a"}, {"name": "b"}], lambda context: _ahead(partitions, context["name"], started, release)
    )
    _until(lambda: len(started) == 1)
    waiting = "b" if started == ["a"] else "a"

    partitions.drop({"name": waiting})
    release.set()
    partitions.close()
    threading.Event().wait(0.2)
    assert waiting not in started
