"""The API's clock, read from the `Date` header of its answers: how far a partition was read.

A partition read whole with no record in it has no record value to bookmark, yet the next run
need not read its history again. "Read up to the run's start" would be this machine's clock,
and a machine whose clock runs ahead of the API's by more than the lookback would then skip
events created in between. The answers' `Date` header is the API's own present: every record
created before the first answer of a partition's read (late arrivals aside, which the lookback
is for) was there to be returned, so the partition is read through the earlier of its range's
end and that `Date`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
import typing as t

from typing_extensions import override

if t.TYPE_CHECKING:
    import requests

#: The context key holding a partition's `FirstAnswer` (shared by every window of the partition).
CONTEXT_KEY = "first_answer"


class FirstAnswer:
    """The `Date` of the first answer to a partition's requests in this run (None: none had one)."""

    def __init__(self) -> None:
        self.date: dt.datetime | None = None
        self._lock = threading.Lock()

    @override
    def __repr__(self) -> str:  # a context holds it, and the SDK's metrics print contexts
        return f"FirstAnswer({self.date})"

    def note(self, response: requests.Response) -> None:
        if self.date is not None:
            return
        date = answer_date(response.headers.get("Date"))
        if date is None:
            return
        with self._lock:
            if self.date is None or date < self.date:
                self.date = date


def answer_date(header: str | None) -> dt.datetime | None:
    """An HTTP `Date` header (RFC 9110's IMF-fixdate, or the obsolete forms) in UTC; None if absent or unreadable."""
    if not header:
        return None
    try:
        date = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    return date.astimezone(dt.UTC) if date.tzinfo else date.replace(tzinfo=dt.UTC)


def note_answer(context: t.Mapping[str, t.Any] | None, response: requests.Response) -> None:
    """Keep the answer's `Date` with the partition the context belongs to, when it asks for it."""
    first = (context or {}).get(CONTEXT_KEY)
    if isinstance(first, FirstAnswer):
        first.note(response)
