"""What a run could not do, said again when it ends, so that a scheduler's log shows it at the bottom.

Streams record here the partitions they could not read (refused credentials, ...) and the time
ranges the source no longer keeps; `TapEvents` prints `closing_lines()` when the run ends and
exits non-zero when any partition failed.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from singer_sdk.exceptions import FatalAPIError

from tap_events.timestamps import format_timestamp


class RunIncompleteError(FatalAPIError):
    """Some partitions could not be read; the others were, with their STATE. Exits non-zero."""


@dataclass(frozen=True)
class Gap:
    """[start, end) of one partition of one stream: older than what the API still keeps."""

    stream: str
    partition: str
    start: dt.datetime
    end: dt.datetime

    def describe(self) -> str:
        return f"{self.stream} {self.partition}: {format_timestamp(self.start)} to {format_timestamp(self.end)}"


@dataclass(frozen=True)
class Failure:
    """A partition (account, workspace, environment, organisation) that could not be read."""

    stream: str
    partition: str
    message: str


@dataclass
class RunReport:
    """Thread-safe: windows are read by worker threads."""

    gaps: list[Gap] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: Credentials (a Twilio account, Telnyx) answered with 401: not sent again in this run.
    refused_credentials: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def gap(self, stream: str, partition: str, start: dt.datetime, end: dt.datetime) -> None:
        with self._lock:
            self.gaps.append(Gap(stream, partition, start, end))

    def failure(self, stream: str, partition: str, message: str) -> None:
        with self._lock:
            self.failures.append(Failure(stream, partition, message))

    def refuse(self, credential: str) -> None:
        with self._lock:
            self.refused_credentials.add(credential)

    def refused(self, credential: str) -> bool:
        return credential in self.refused_credentials

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def closing_lines(self) -> list[str]:
        """Warnings for the end of the log (the failures are in the error the run ends with)."""
        if not self.gaps:
            return []
        return [
            f"{len(self.gaps)} time range(s) are older than the source keeps and could not be read: "
            + "; ".join(gap.describe() for gap in self.gaps)
        ]

    def failure_summary(self) -> str:
        """Every partition that could not be read, once, with the streams it failed in."""
        streams: dict[str, list[str]] = {}
        for failure in self.failures:
            streams.setdefault(failure.partition, []).append(failure.stream)
        return f"{len(streams)} partition(s) could not be read: " + "; ".join(
            f"{partition} ({', '.join(names)})" for partition, names in streams.items()
        )
