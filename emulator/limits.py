"""The request limits the emulator can enforce across APIs (switches, default off).

- **Twilio: concurrent requests per account.** Every Twilio API of an account (Monitor,
  TaskRouter, Serverless) shares one count of requests in flight, from arrival until its answer
  is ready to be written (the emulator's `latency` included; the slot is free before the answer
  leaves, so a client that sends its next request as soon as it has an answer is never refused
  for the one it just received). With a limit, a request arriving while the account
  already has `limit` in flight is answered at once with HTTP 429 and Twilio error 20429 ("your
  account exceeds allowed concurrency ... safe to retry after backing off"). Every Twilio answer,
  limit or not, carries `Twilio-Concurrent-Requests`: the account's requests in flight at its
  arrival, itself included (so `limit + 1` on a refusal: a refused request is in flight too, for
  the moment it takes to refuse it). The Serverless Logs rate limit (5 per second) is separate.
- **Telnyx: requests per API key in a fixed window.** With `(requests, seconds)`, every answer
  carries `x-ratelimit-limit` (the limit), `x-ratelimit-remaining` (left in the current window)
  and `x-ratelimit-reset` (whole seconds until the window ends); a request over the limit gets
  HTTP 429 with error 10011 and `remaining` 0. The window starts with the first request after the
  previous one ended. Without a limit no such header is sent: real Telnyx sends them on most
  endpoints (a generous limit plays that), and a client must work when an endpoint omits them.
- Neither vendor says whether these 429s carry `Retry-After`: by default they do not; with
  `retry_after` they do (Twilio: 1 second; Telnyx: the seconds until the window resets).
"""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import typing as t

from emulator.http import HTTPError, telnyx_error, twilio_error

CONCURRENT_REQUESTS_HEADER = "Twilio-Concurrent-Requests"
TELNYX_RATE_LIMITED = ("10011", "Too many requests", "You have exceeded the maximum number of allowed requests.")


class TwilioConcurrency:
    """Requests in flight per Twilio account, the most there were at once, and the refusals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: At most this many requests per account in flight; None: no limit.
        self.limit: int | None = None
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()
        self.refusals: collections.Counter[str] = collections.Counter()
        #: Refusals carry `Retry-After: 1`.
        self.retry_after = False

    @contextlib.contextmanager
    def request(self, account_sid: str) -> t.Iterator[dict[str, str]]:
        """Count one request in flight while the block answers it; yields the headers its answer
        carries. Raises the 429 (nothing counted after it) when the account is at its limit."""
        with self._lock:
            self.in_flight[account_sid] += 1
            in_flight = self.in_flight[account_sid]
            self.peak[account_sid] = max(self.peak[account_sid], in_flight)
            refused = self.limit is not None and in_flight > self.limit
            if refused:
                self.in_flight[account_sid] -= 1
                self.refusals[account_sid] += 1
        headers = {CONCURRENT_REQUESTS_HEADER: str(in_flight)}
        if refused:
            error = twilio_error(429, 20429, "Too Many Requests")
            error.response.headers.update(headers)
            if self.retry_after:
                error.response.headers["Retry-After"] = "1"
            raise error
        try:
            yield headers
        finally:
            with self._lock:
                self.in_flight[account_sid] -= 1


class TelnyxRateLimit:
    """A fixed window of `requests` per `seconds` for each API key; counts the 429s.

    `clock` gives seconds: the emulator's emulated present, so that a test moves it on instead of
    waiting for a window to end."""

    def __init__(self, clock: t.Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        #: (requests, window seconds) per API key; None: no limit and no `x-ratelimit-*` headers.
        self.limit: tuple[int, float] | None = None
        #: API key -> (start of its current window, requests counted in it).
        self._windows: dict[str, tuple[float, int]] = {}
        self.refusals: collections.Counter[str] = collections.Counter()
        #: Refusals carry `Retry-After`, the seconds until the window resets.
        self.retry_after = False

    def check(self, api_key: str) -> dict[str, str]:
        """The headers of this request's answer; raises the 429 when the key is over its limit."""
        if self.limit is None:
            return {}
        allowed, seconds = self.limit
        now = self._clock()
        with self._lock:
            start, used = self._windows.get(api_key, (now, 0))
            if now - start >= seconds:
                start, used = now, 0
            refused = used >= allowed
            if refused:
                self.refusals[api_key] += 1
            else:
                used += 1
            self._windows[api_key] = (start, used)
        headers = {
            "x-ratelimit-limit": str(allowed),
            "x-ratelimit-remaining": str(allowed - used),
            "x-ratelimit-reset": str(max(1, math.ceil(start + seconds - now))),
        }
        if refused:
            error: HTTPError = telnyx_error(429, *TELNYX_RATE_LIMITED)
            error.response.headers.update(headers)
            if self.retry_after:
                error.response.headers["Retry-After"] = headers["x-ratelimit-reset"]
            raise error
        return headers
