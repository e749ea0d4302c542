"""Per-credential limits of one run: requests in flight, the Serverless Logs rate, Telnyx's rate window.

Every limit here counts what an API counts: an account's (or an API key's) requests, whichever
stream, partition or thread sends them. `Limits` holds them for one run; the tap creates it in
its `RunContext` (run.py) and every stream reaches it there, so nothing is shared by the process.

- `AdaptiveLimit` (one per credential, `Limits.in_flight`): requests in flight, halved on a 429,
  grown back on clean answers, paused until a rate window resets (Telnyx, `pause_while_spent`).
- `SlidingWindowRateLimiter` (one per Twilio account, `Limits.logs_rate`): Serverless Logs'
  5 requests per second.
"""

from __future__ import annotations

import collections
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests

#: How long a waiting request sleeps before it looks at its limit again.
POLL_SECONDS = 0.1


#: Clean answers, per request allowed in flight, before a limit that was refused is tried again.
PROBE_AFTER_ANSWERS = 10


class AdaptiveLimit:
    """How many requests one account may have in flight, adapted to what its API answers.

    Additive increase, multiplicative decrease: an answer saying "too many requests" (HTTP 429)
    halves the limit, once for every request sent before it (their 429s tell nothing new); each
    clean answer raises it by 1/limit, that is by one per limit's worth of answers, up to
    `ceiling`. A limit that was refused is tried again only after `PROBE_AFTER_ANSWERS` clean
    answers per request in flight, so a run under an account limit of 3 stays at 3 rather than
    bouncing off 4. `pause` holds new requests until a rate-limit window resets.
    """

    def __init__(self, ceiling: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ceiling = ceiling
        self.limit = float(ceiling)
        self.in_flight = 0
        #: Requests in flight at most, over the run (for tests and the closing report).
        self.peak_in_flight = 0
        self._refused_limit: int | None = None
        self._clean_answers = 0
        self._generation = 0  # one more at every decrease
        self._paused_until = 0.0
        self._clock = clock
        self._changed = threading.Condition()

    def acquire(self) -> int:
        """Wait for a free slot; the generation to hand back to `refused`."""
        with self._changed:
            while True:
                wait = self._paused_until - self._clock()
                if wait <= 0 and self.in_flight < int(self.limit):
                    break
                self._changed.wait(min(wait, POLL_SECONDS) if wait > 0 else POLL_SECONDS)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return self._generation

    def release(self) -> None:
        with self._changed:
            self.in_flight -= 1
            self._changed.notify()

    def answered(self) -> None:
        """A clean answer: one more request in flight, after a limit's worth of them."""
        with self._changed:
            if self.limit >= self.ceiling:
                return
            if self._refused_limit is not None and int(self.limit) >= self._refused_limit:
                self._refused_limit = None  # the limit once refused is answered cleanly now
            if self._refused_limit is not None and int(self.limit) + 1 >= self._refused_limit:
                self._clean_answers += 1
                if self._clean_answers < PROBE_AFTER_ANSWERS * int(self.limit):
                    return
                self._clean_answers = 0
                self.limit = float(int(self.limit) + 1)
            else:
                self.limit = min(float(self.ceiling), self.limit + 1 / self.limit)
            self._changed.notify_all()

    def refused(self, generation: int) -> tuple[int, int] | None:
        """A 429 for a request sent in `generation`: (old, new) limit if it was lowered, None if
        a 429 of a request sent before already lowered it."""
        with self._changed:
            if generation != self._generation:
                return None
            self._generation += 1
            old = int(self.limit)
            self._refused_limit = old
            self._clean_answers = 0
            self.limit = max(1.0, float(old // 2))
            return old, int(self.limit)

    def pause(self, seconds: float) -> None:
        """No request starts for `seconds` (the API's rate-limit window resets then)."""
        with self._changed:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


class AccountLimits:
    """One `AdaptiveLimit` per credential (a Twilio account, a Telnyx key), shared by every
    stream and thread of the run: the API counts the account's requests, not the stream's."""

    def __init__(self) -> None:
        self._limits: dict[str, AdaptiveLimit] = {}
        self._lock = threading.Lock()

    def of(self, credential: str, ceiling: int) -> AdaptiveLimit:
        with self._lock:
            limit = self._limits.get(credential)
            if limit is None:
                limit = self._limits[credential] = AdaptiveLimit(ceiling)
            return limit


class SlidingWindowRateLimiter:
    """At most `max_requests` starts in any `period` seconds, across every thread.

    A token bucket would let a full bucket and its refill through in the same second (six
    requests in one second for a bucket of five), which a server counting over a sliding
    second refuses; this keeps the start times of the last `max_requests` requests and
    makes the next one wait until the oldest of them is `period` old. Each caller reserves
    its start time under the lock and sleeps outside it, so reservations never overlap.
    """

    def __init__(
        self,
        max_requests: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_requests = max_requests
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: collections.deque[float] = collections.deque(maxlen=max_requests)
        self._paused_until = 0.0

    def wait(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if len(self._starts) == self.max_requests:
                start = max(start, self._starts[0] + self.period)
            self._starts.append(start)
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(0.0, delay)

    def pause(self, seconds: float) -> None:
        """The server refused a request: no request of any thread starts for `seconds`."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


class AccountRateLimiters:
    """One `SlidingWindowRateLimiter` per Twilio account, created on first use."""

    def __init__(self, max_requests: int, period: float) -> None:
        self.max_requests = max_requests
        self.period = period
        self._lock = threading.Lock()
        self._limiters: dict[str, SlidingWindowRateLimiter] = {}

    def for_account(self, account_sid: str) -> SlidingWindowRateLimiter:
        with self._lock:
            limiter = self._limiters.get(account_sid)
            if limiter is None:
                limiter = SlidingWindowRateLimiter(self.max_requests, self.period)
                self._limiters[account_sid] = limiter
            return limiter


#: Twilio allows 5 Logs requests per second per account. Every Logs request of the run goes
#: through its account's limiter, whichever thread, window or environment it is for; 5 per
#: 1.1 s leaves room for network jitter, so the server never counts six in one second.
LOGS_REQUESTS_PER_PERIOD = 5
LOGS_PERIOD_SECONDS = 1.1


class Limits:
    """The per-credential limits of one run, created with its `RunContext`."""

    def __init__(self) -> None:
        self._in_flight = AccountLimits()
        self._logs_rate = AccountRateLimiters(LOGS_REQUESTS_PER_PERIOD, LOGS_PERIOD_SECONDS)

    def in_flight(self, credential: str, ceiling: int) -> AdaptiveLimit:
        """The requests in flight allowed for `credential` (created with `ceiling` on first use)."""
        return self._in_flight.of(credential, ceiling)

    def logs_rate(self, account_sid: str) -> SlidingWindowRateLimiter:
        """The Serverless Logs limiter of a Twilio account, shared by every Logs request of the run."""
        return self._logs_rate.for_account(account_sid)


#: An `x-ratelimit-reset` larger than this is a Unix time, not a number of seconds.
UNIX_TIME_AFTER = 1_000_000_000
#: A reset further away than this is not waited for before the next request (retries still back off).
MAX_RESET_WAIT_SECONDS = 60.0


def seconds_until_reset(response: requests.Response) -> float | None:
    """`x-ratelimit-reset`: seconds until the rate-limit window resets (a Unix time is read as one)."""
    value = response.headers.get("x-ratelimit-reset")
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is not None and seconds > UNIX_TIME_AFTER:
        seconds -= time.time()
    return None if seconds is None else max(0.0, seconds)


def pause_while_spent(limit: AdaptiveLimit, response: requests.Response) -> None:
    """Telnyx counts requests per time window: none starts once `x-ratelimit-remaining` is 0
    (or on a 429) until `x-ratelimit-reset` says the window is new."""
    remaining = response.headers.get("x-ratelimit-remaining")
    if response.status_code == 429 or (remaining is not None and remaining.strip() in ("0", "-1")):
        reset = seconds_until_reset(response)
        if reset:
            limit.pause(min(reset, MAX_RESET_WAIT_SECONDS))
