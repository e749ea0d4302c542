"""In process: a window read as pieces is whole only when every piece is, and the adaptive limit of
requests in flight halves on a 429, grows back one request per round of clean answers, and
tries a refused limit again only after many clean answers."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from tap_events.busy_windows import SplitLedger, estimated_pages, piece_bounds, pieces_for
from tap_events.concurrency import ReadInPieces, read_as_ready
from tap_events.limits import PROBE_AFTER_ANSWERS, AdaptiveLimit

DAY = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


def _split_windows(window: tuple[int, ...]):
    """Window (n,) yields a record, then splits into (n, 0) and (n, 1); those split once more."""
    yield window
    if len(window) < 3:
        raise ReadInPieces([(*window, 0), (*window, 1)])


@pytest.mark.parametrize("chunk_size", [1, 10], ids=["chunks-of-one", "split-mid-chunk"])
@pytest.mark.parametrize("workers", [1, 4])
def test_a_window_is_whole_only_after_every_piece_and_every_record_comes_once(workers, chunk_size):
    order: list[tuple] = []
    for index, window, records in read_as_ready(
        [(n,) for n in range(5)], _split_windows, workers=workers, chunk_size=chunk_size
    ):
        order.append((index, window, None if records is None else tuple(records)))

    records = [records for _, _, records in order if records is not None]
    assert sorted(records) == sorted(
        [((n,),) for n in range(5)]
        + [((n, a),) for n in range(5) for a in range(2)]
        + [((n, a, b),) for n in range(5) for a in range(2) for b in range(2)]
    )
    for n in range(5):
        whole_at = order.index((n, (n,), None))
        assert all(position < whole_at for position, item in enumerate(order) if item[0] == n and item[2] is not None)


def test_an_error_in_a_piece_is_raised():
    def read(window: tuple[int, ...]):
        if len(window) == 2 and window[1] == 1:
            raise RuntimeError(f"piece {window} failed")
        yield from _split_windows(window)

    with pytest.raises(RuntimeError, match=r"piece \(\d, 1\) failed"):
        list(read_as_ready([(n,) for n in range(3)], read, workers=3, chunk_size=1))


def test_the_limit_halves_once_for_every_request_sent_before_the_429():
    limit = AdaptiveLimit(8)

    def refused_once() -> tuple[int, int] | None:
        generation = limit.acquire()
        limit.release()
        return limit.refused(generation)

    generation = limit.acquire()
    limit.release()
    assert limit.refused(generation) == (8, 4)
    assert limit.refused(generation) is None  # another 429 of the same round tells nothing new
    assert [refused_once(), refused_once(), refused_once()] == [(4, 2), (2, 1), (1, 1)]


def test_clean_answers_add_one_request_per_round_up_to_the_ceiling_and_a_refused_limit_only_later():
    limit = AdaptiveLimit(8)
    limit.refused(limit.acquire())  # refused at 8: now 4
    limit.release()
    answers = 0
    while int(limit.limit) < 7:
        limit.answered()
        answers += 1
    assert 4 + 5 + 6 - 3 <= answers <= 4 + 5 + 6 + 3  # about one more per limit's worth of clean answers
    for _ in range(PROBE_AFTER_ANSWERS * 7 - 1):
        limit.answered()
    assert int(limit.limit) == 7, "8 was refused: tried again only after many clean answers"
    limit.answered()
    assert int(limit.limit) == 8
    for _ in range(100):
        limit.answered()
    assert limit.limit == 8


def test_threads_never_have_more_requests_in_flight_than_the_limit():
    limit = AdaptiveLimit(6)
    limit.refused(limit.acquire())
    limit.release()
    in_flight, peak, lock = 0, 0, threading.Lock()

    def request() -> None:
        nonlocal in_flight, peak
        limit.acquire()
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        limit.release()

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 3


def test_a_pause_holds_every_new_request_until_it_ends():
    now = [0.0]
    limit = AdaptiveLimit(4, clock=lambda: now[0])
    limit.pause(5.0)
    started = threading.Event()

    def request() -> None:
        limit.acquire()
        started.set()

    threading.Thread(target=request, daemon=True).start()

    assert not started.wait(0.3)
    now[0] = 5.0
    assert started.wait(2.0)


def test_a_first_page_newest_first_tells_how_many_pages_the_query_holds():
    # 100 records in the last hour of a day, newest first: about 24 pages in the day.
    values = [(DAY + dt.timedelta(hours=24, seconds=-36 * n)).strftime("%Y-%m-%dT%H:%M:%SZ") for n in range(100)]

    assert estimated_pages(values, DAY, DAY + dt.timedelta(days=1), 100) == pytest.approx(24, rel=0.02)
    assert estimated_pages(list(reversed(values)), DAY, DAY + dt.timedelta(days=1), 100) == pytest.approx(1, rel=0.02)
    shuffled = values[50:] + values[:50]
    assert estimated_pages(shuffled, DAY, DAY + dt.timedelta(days=1), 100) is None
    assert pieces_for(None, 8) == 8
    assert pieces_for(24, 8) == 27
    assert pieces_for(10_000, 8) == 100


def test_pieces_are_cut_on_whole_seconds_strictly_inside_the_range():
    cuts = piece_bounds(DAY + dt.timedelta(milliseconds=500), DAY + dt.timedelta(seconds=10), 4)

    assert cuts == [DAY + dt.timedelta(seconds=s) for s in (2, 5, 7)]
    assert piece_bounds(DAY, DAY + dt.timedelta(seconds=1), 4) == []


def test_a_record_near_a_boundary_is_admitted_once_and_the_others_always():
    ledger = SplitLedger("sid", ("date_created", "date_generated"), "seconds")
    ledger.add_boundaries([DAY + dt.timedelta(hours=6)])
    near = {"sid": "A", "date_created": "2026-11-28T07:00:00Z", "date_generated": "2026-11-28T06:00:01Z"}
    far = {"sid": "B", "date_created": "2026-11-28T05:00:00Z", "date_generated": "2026-11-28T04:59:00Z"}

    assert [ledger.admit(near), ledger.admit(near)] == [True, False]
    assert [ledger.admit(far), ledger.admit(far)] == [True, True]


class _Readers:
    """Counts the workers inside a window's reader at once (from its request to its page)."""

    def __init__(self, seconds_per_page: float) -> None:
        self.inside = 0
        self.peaks: list[int] = []
        self.lock = threading.Lock()
        self.seconds_per_page = seconds_per_page

    def read(self, window: int):
        for page in range(5):
            with self.lock:
                self.inside += 1
                self.peaks.append(self.inside)
            time.sleep(self.seconds_per_page)
            with self.lock:
                self.inside -= 1
            yield (window, page)


def test_while_the_caller_waits_for_pages_every_worker_keeps_a_request_in_flight():
    readers = _Readers(seconds_per_page=0.02)

    for _ in read_as_ready(range(16), readers.read, workers=4, chunk_size=1):
        pass

    assert max(readers.peaks) == 4


def test_while_pages_wait_for_the_caller_fewer_workers_read_and_few_pages_are_held():
    produced = 0
    lock = threading.Lock()

    def read(window: int):
        nonlocal produced
        for page in range(5):
            with lock:
                produced += 1
            yield (window, page)

    held = []
    consumed = 0
    for _, _, records in read_as_ready(range(40), read, workers=8, chunk_size=1):
        if records is None:
            continue
        consumed += 1
        held.append(produced - consumed)
        time.sleep(0.002)  # the caller is the bottleneck

    # Read but not yet taken: the queue's 2 and one page per reader; 8 readers would hold 10.
    assert max(held[-100:]) <= 4
