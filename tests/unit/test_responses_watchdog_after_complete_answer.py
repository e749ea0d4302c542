"""The whole-answer watchdog may fall due just as the read returns a complete answer: it must
then leave the answer alone, neither marking it expired (a good page retried as a ReadTimeout)
nor letting urllib3's refusal to shut a connection already back in the pool escape its thread."""

from __future__ import annotations

import io
import threading

import requests

from tap_events.responses import _raise_if_expired, _Watchdog

FAR = 3600.0


def test_a_watchdog_cancelled_before_it_fires_does_nothing():
    """The watchdog thread had taken the watchdog off its heap when the read returned."""
    shut = []
    watchdog = _Watchdog(lambda: shut.append(True), FAR)
    watchdog.cancel()
    watchdog._fire()
    assert shut == []
    assert watchdog.expired is False


def test_a_connection_already_released_is_no_expiry_and_no_traceback():
    """The read returned and released the connection before `cancel` ran: shutting it fails."""
    attempts = []

    def released_to_the_pool() -> None:
        attempts.append(True)
        raise RuntimeError("Cannot shutdown as connection has already been released to the pool")

    watchdog = _Watchdog(released_to_the_pool, 0.0)
    watchdog.wait_fired(timeout=10)
    assert attempts == [True]
    assert watchdog.expired is False


def test_a_shutdown_with_no_socket_left_is_no_expiry():
    def no_socket() -> None:
        raise ValueError("Cannot shutdown socket as self._sock_shutdown is not set")

    watchdog = _Watchdog(no_socket, 0.0)
    watchdog.wait_fired(timeout=10)
    assert watchdog.expired is False


def test_an_answer_still_arriving_is_shut_and_expired():
    shut = threading.Event()
    watchdog = _Watchdog(shut.set, 0.0)
    watchdog.wait_fired(timeout=10)
    assert shut.is_set()
    assert watchdog.expired is True
    watchdog.cancel()
    assert watchdog.expired is True


def test_a_read_cut_by_the_shutdown_is_a_timeout_before_the_shutdown_has_returned():
    """The shutdown wakes the read (a ProtocolError) while the timer thread is still inside it."""
    started, release = threading.Event(), threading.Event()

    def slow_shutdown() -> None:
        started.set()
        release.wait(10)

    watchdog = _Watchdog(slow_shutdown, 0.0)
    assert started.wait(10)
    response = requests.Response()
    response.raw = io.BytesIO()
    outcome: list[type[BaseException] | None] = []

    def read_cut() -> None:
        try:
            _raise_if_expired(watchdog, response, 2.0)
        except requests.exceptions.ReadTimeout as exc:
            outcome.append(type(exc))
        else:
            outcome.append(None)

    reader = threading.Thread(target=read_cut)
    reader.start()
    reader.join(0.2)  # it waits for the shutdown (a wrong answer would already be there)
    release.set()
    reader.join(10)
    assert outcome == [requests.exceptions.ReadTimeout]


def test_every_watchdog_is_fired_by_one_thread_an_earlier_deadline_first():
    """Arming starts no thread: one watchdog thread holds every deadline, and a deadline armed
    after a far one wakes it (a heap of deadlines, not a queue in the order armed)."""
    far = [_Watchdog(lambda: None, FAR) for _ in range(200)]
    shut = threading.Event()
    near = _Watchdog(shut.set, 0.0)
    assert near.wait_fired(timeout=10)
    assert shut.is_set() and near.expired is True
    assert [thread.name for thread in threading.enumerate()].count("answer-watchdog") == 1
    for watchdog in far:
        watchdog.cancel()
    assert not any(watchdog.fired or watchdog.expired for watchdog in far)
