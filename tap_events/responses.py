"""A response's JSON body, read in one go and parsed once while it is validated, and the context it answers."""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import json
import threading
import time
import typing as t

import orjson
import requests
from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context


_BODY_ATTRIBUTE = "_tap_events_body"
_CONTEXT_ATTRIBUTE = "_tap_events_context"
_VALUES_ATTRIBUTE = "_tap_events_page_values"


class WholeBodyAdapter(HTTPAdapter):
    """requests' adapter, except that a body is read in one call rather than in 10 KiB chunks,
    and the whole answer is bounded in time.

    `Response.content` reads through `iter_content(10240)`: a page of 1,000 Monitor Events
    (about 800 KB) is some 80 trips through urllib3's reader, each releasing and taking the
    GIL again (a hand-off to whichever thread waits for it). Reading 200,000 events took about
    0.2 s of CPU less this way (of 1.1 s for fetching and parsing them). Errors are those
    `Response.content` raises, so that retries see no difference: a body cut short is a
    `ChunkedEncodingError`.

    The request's read timeout bounds each read of the socket, so an answer trickled a byte at a
    time never times out by itself: the whole answer, headers and body, must arrive within the
    read timeout of the request being sent, or its connection is shut and the answer is a
    `ReadTimeout` (retried like any other timeout).
    """

    @override
    def send(
        self, request: requests.PreparedRequest, stream: bool = False, *args: t.Any, **kwargs: t.Any
    ) -> requests.Response:
        sent_at = time.monotonic()
        response = super().send(request, stream, *args, **kwargs)
        if not stream and response.raw is not None:
            bound = whole_answer_seconds(kwargs.get("timeout"))
            watchdog = _Watchdog(response.raw.shutdown, bound - (time.monotonic() - sent_at)) if bound else None
            try:
                content = response.raw.read(decode_content=True)
            except ProtocolError as exc:
                _raise_if_expired(watchdog, response, bound)
                raise requests.exceptions.ChunkedEncodingError(exc) from exc
            except DecodeError as exc:
                _raise_if_expired(watchdog, response, bound)
                raise requests.exceptions.ContentDecodingError(exc) from exc
            except ReadTimeoutError as exc:
                _raise_if_expired(watchdog, response, bound)
                raise requests.exceptions.ConnectionError(exc) from exc
            except SSLError as exc:
                _raise_if_expired(watchdog, response, bound)
                raise requests.exceptions.SSLError(exc) from exc
            finally:
                if watchdog is not None:
                    watchdog.cancel()
            _raise_if_expired(watchdog, response, bound)  # a body without a length ends where it was cut
            # What `Response.content` would have stored: requests then reads nothing more.
            response.__dict__.update(_content=content or b"", _content_consumed=True)
        return response


def whole_answer_seconds(timeout: t.Any) -> float | None:
    """How long a whole answer may take: the request's read timeout (requests' float or
    (connect, read) pair); None when it has none."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) > 1 else None
    return float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None


class _Watchdog:
    """Calls `expire` (shutting the answer's connection) unless cancelled within `seconds`.

    Armed on the process's one watchdog thread (`_Watchdogs`), not a thread of its own: a
    `threading.Timer` per request started a thread for every page (about 130 µs of CPU each).
    The deadline may fall due just as the read returns a complete answer: once `cancel` has run
    it does nothing, and `expire` failing (urllib3 refuses to shut a connection already back in
    the pool) means the answer was complete, so only an `expire` that ran marks the answer expired.
    """

    __slots__ = ("_done", "_expire", "_lock", "expired", "fired")

    def __init__(self, expire: t.Callable[[], None], seconds: float) -> None:
        self.expired = False
        #: Set by the watchdog thread once it has called `_fire` (`wait_fired`).
        self.fired = False
        self._expire = expire
        self._lock = threading.Lock()
        self._done = False
        _WATCHDOGS.arm(self, time.monotonic() + max(0.0, seconds))

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            with contextlib.suppress(RuntimeError, ValueError, OSError):
                self._expire()
                self.expired = True

    def cancel(self) -> None:
        """The read has returned: from now on the deadline does nothing. Returns once a shutdown
        under way has run, so that `expired` is then final. Its heap entry is dropped later, by
        the watchdog thread or when the heap is compacted: cancelling costs no heap work."""
        with self._lock:
            self._done = True

    def wait_fired(self, timeout: float | None = None) -> bool:
        """Whether the watchdog thread has fired this watchdog (called `_fire` at its deadline; one
        cancelled before is dropped, never fired), waiting up to `timeout` seconds for it: how a
        test waits for a deadline to pass, as it used to join the Timer's thread."""
        return _WATCHDOGS.wait_fired(self, timeout)


class _Watchdogs:
    """The one daemon thread of the process that fires every `_Watchdog` when its deadline falls
    due: a heap of (deadline, order, watchdog), the thread woken by a Condition only when a new
    deadline is the earliest (deadlines are mostly armed in order, so mostly it is not).

    Arming is a push on the heap (O(log n)), with no thread started; cancelling only marks the
    watchdog done. Entries of cancelled watchdogs are dropped when they reach the top, and the
    whole heap compacted once it has doubled since the last compaction, so it holds about the
    watchdogs armed within one `request_timeout_seconds`, at most. `_fire` runs outside the
    heap's lock: a slow shutdown delays other deadlines, never a request arming its own.
    """

    #: The heap is compacted (cancelled entries dropped) once it holds this many, or twice the last count.
    COMPACT_AT = 64

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._fired = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._order = itertools.count()
        self._compact_at = self.COMPACT_AT
        self._thread: threading.Thread | None = None

    def arm(self, watchdog: _Watchdog, deadline: float) -> None:
        with self._changed:
            if self._thread is None or not self._thread.is_alive():  # first use, or a forked child
                self._thread = threading.Thread(target=self._run, name="answer-watchdog", daemon=True)
                self._thread.start()
            heap = self._heap
            if len(heap) >= self._compact_at:
                heap[:] = [entry for entry in heap if not entry[2]._done]
                heapq.heapify(heap)
                self._compact_at = max(self.COMPACT_AT, 2 * len(heap))
            heapq.heappush(heap, (deadline, next(self._order), watchdog))
            if heap[0][2] is watchdog:
                self._changed.notify()

    def wait_fired(self, watchdog: _Watchdog, timeout: float | None) -> bool:
        with self._fired:
            return self._fired.wait_for(lambda: watchdog.fired, timeout)

    def _run(self) -> None:
        heap = self._heap
        with self._changed:
            while True:
                while heap and heap[0][2]._done:  # cancelled: nothing to fire
                    heapq.heappop(heap)
                now = time.monotonic()
                if not heap or heap[0][0] > now:
                    self._changed.wait(heap[0][0] - now if heap else None)
                    continue
                watchdog = heapq.heappop(heap)[2]
                self._changed.release()
                try:
                    watchdog._fire()
                finally:
                    self._changed.acquire()
                with self._fired:
                    watchdog.fired = True
                    self._fired.notify_all()


_WATCHDOGS = _Watchdogs()


def _raise_if_expired(watchdog: _Watchdog | None, response: requests.Response, bound: float | None) -> None:
    if watchdog is None:
        return
    watchdog.cancel()  # waits for a shutdown under way (the one that cut this read): `expired` is final
    if watchdog.expired:
        response.close()
        msg = f"the whole answer did not arrive within {bound:g} s (request_timeout_seconds)"
        raise requests.exceptions.ReadTimeout(msg)


def response_body(response: requests.Response) -> t.Any:
    """The JSON body, parsed once while the response was validated."""
    if _BODY_ATTRIBUTE not in response.__dict__:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            body = _lone_surrogates_allowed(response.content, exc)
        response.__dict__[_BODY_ATTRIBUTE] = body
    return response.__dict__[_BODY_ATTRIBUTE]


def _lone_surrogates_allowed(content: bytes, error: orjson.JSONDecodeError) -> t.Any:
    """JSON allows a string to hold an escaped lone surrogate (`"\\ud800"`: a vendor that cuts text
    between the halves of a pair), which orjson refuses; the standard library reads it, so that
    the value is emitted as sent (`output.RecordLines` escapes it again). Anything else that orjson
    refuses is still not JSON (NaN and Infinity included)."""

    def refuse(constant: str) -> t.NoReturn:
        raise error

    try:
        return json.loads(content, parse_constant=refuse)
    except ValueError:
        raise error from None


def hand_out_records(response: requests.Response, records_key: str, value_key: str | None) -> Iterator[dict]:
    """The page's records, each dropped from the page as it is taken: once the main thread has
    written them, they are freed, although the worker that read the page holds its response
    until it asks for the next page (with 8 workers, that was a parsed page each: about 10 MB).
    What paging decides from the page afterwards (`page_values`) is kept: each record's `value_key`.
    """
    records = response_body(response)[records_key]
    if value_key:
        key = _own_key(records, value_key)
        values = [record.get(key) for record in records]
    else:
        values = [None] * len(records)
    response.__dict__[_VALUES_ATTRIBUTE] = values
    pending = collections.deque(records)
    records.clear()
    # `popleft` called once per record, in C: no sentinel compared with every record (`iter(f, sentinel)`).
    return itertools.starmap(pending.popleft, itertools.repeat((), len(pending)))


def _own_key(records: list[t.Any], key: str) -> str:
    """`key` as the page's records hold it: orjson gives every record the same key objects, and a
    dict finds its own object by identity, without comparing the strings (a third of a lookup)."""
    first = records[0] if records else None
    if isinstance(first, dict):
        for name in first:
            if name == key:
                return t.cast("str", name)
    return key


def page_values(response: requests.Response) -> list[t.Any]:
    """Each record's replication value (None where it has none), in the page's order."""
    return t.cast("list[t.Any]", response.__dict__.get(_VALUES_ATTRIBUTE, []))


def attach_context(response: requests.Response, context: Context | None) -> None:
    """Keep the context (partition and window) with the response that answers it."""
    response.__dict__[_CONTEXT_ATTRIBUTE] = context


def response_context(response: requests.Response) -> Context:
    """The context (partition and window) of the request this response answers."""
    return t.cast("Context", response.__dict__.get(_CONTEXT_ATTRIBUTE) or {})
