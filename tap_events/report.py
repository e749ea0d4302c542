"""What a run did and could not do, said when it ends, so that a scheduler's log shows it at the bottom.

Streams record here the partitions they could not read (refused credentials, ...) and the time
ranges the source no longer keeps; `TapEvents` prints `closing_lines()` when the run ends and
exits non-zero when any partition failed. Next to them, the figures of each partition (records,
requests, retries by cause, windows split) for the closing report (`report_lines`, `report_json`),
and the progress lines written while a stream runs (`StreamProgress`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass, field

import orjson
from singer_sdk.exceptions import FatalAPIError

from tap_events.timestamps import format_timestamp

#: Context keys that name a partition, in the order a partition is described.
PARTITION_KEYS = (
    ("account_sid", "account"),
    ("workspace_sid", "workspace"),
    ("service_sid", "service"),
    ("environment_sid", "environment"),
)


def partition_name(context: t.Mapping[str, t.Any] | None, unpartitioned: str) -> str:
    """`account AC…, workspace WS…`: a partition as warnings and the run report name it."""
    named = [f"{label} {context[key]}" for key, label in PARTITION_KEYS if context and context.get(key)]
    return ", ".join(named) or unpartitioned


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


#: Why a request was retried, as the closing report counts it (every key always present).
RETRY_CAUSES = ("5xx", "429", "timeout", "truncated_body", "connection")
#: How the JSON line of the closing report starts (the rest is one JSON object).
REPORT_JSON_PREFIX = "tap-events run report: "
#: The JSON line's schema version: raised when a field changes meaning or goes.
REPORT_SCHEMA_VERSION = 1


@dataclass
class PartitionFigures:
    """What one partition of one stream did in this run."""

    records: int = 0
    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    windows_split: int = 0
    #: Records emitted without a usable replication value (missing, null or not a timestamp):
    #: in no time window, claimed by no bookmark (windows.py, `TimeWindowStream.emit_unplaced`).
    unplaced: int = 0
    #: Other timestamp values that are no timestamp, passed on as the API sent them.
    unparseable_timestamps: int = 0
    #: "deleted" (404 since it was listed), "refused" (credentials), "failed" (gave up): not read whole.
    skipped: str | None = None


@dataclass
class RunReport:
    """Thread-safe: windows are read by worker threads."""

    gaps: list[Gap] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: Credentials (a Twilio account, Telnyx) answered with 401: not sent again in this run.
    refused_credentials: set[str] = field(default_factory=set)
    #: (stream, partition) -> its figures, in the order partitions were first met.
    figures: dict[tuple[str, str], PartitionFigures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _of(self, stream: str, partition: str) -> PartitionFigures:
        """Call with the lock held."""
        figures = self.figures.get((stream, partition))
        if figures is None:
            figures = self.figures[(stream, partition)] = PartitionFigures()
        return figures

    def records(self, stream: str, partition: str, count: int) -> None:
        """`count` records of the partition were written (counted per page or window, not per record)."""
        with self._lock:
            self._of(stream, partition).records += count

    def request(self, stream: str, partition: str) -> None:
        """One HTTP request sent (each retry is one more)."""
        with self._lock:
            self._of(stream, partition).requests += 1

    def retry(self, stream: str, partition: str, cause: str) -> None:
        with self._lock:
            self._of(stream, partition).retries[cause] += 1

    def window_split(self, stream: str, partition: str) -> None:
        """A query reached a result cap and is read in two halves."""
        with self._lock:
            self._of(stream, partition).windows_split += 1

    def unplaced(self, stream: str, partition: str, count: int) -> None:
        """`count` records without a usable replication value were written as the API sent them."""
        with self._lock:
            self._of(stream, partition).unplaced += count

    def unparseable_timestamp(self, stream: str, partition: str) -> None:
        """A timestamp field other than the replication key held no timestamp (passed on as sent)."""
        with self._lock:
            self._of(stream, partition).unparseable_timestamps += 1

    def skipped(self, stream: str, partition: str, reason: str) -> None:
        with self._lock:
            self._of(stream, partition).skipped = reason

    def records_of(self, stream: str) -> int:
        with self._lock:
            return sum(figures.records for (name, _), figures in self.figures.items() if name == stream)

    def gap(self, stream: str, partition: str, start: dt.datetime, end: dt.datetime) -> None:
        with self._lock:
            self.gaps.append(Gap(stream, partition, start, end))

    def failure(self, stream: str, partition: str, message: str) -> None:
        with self._lock:
            self.failures.append(Failure(stream, partition, message))
            figures = self._of(stream, partition)
            figures.skipped = figures.skipped or "failed"

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

    def report(self, bookmarks: dict[tuple[str, str], str | None], *, succeeded: bool) -> dict[str, t.Any]:
        """The closing report as the JSON line carries it (schema in the README, "Watching a run").

        `bookmarks`: the final bookmark of each (stream, partition), from the tap's last STATE.
        """
        with self._lock:
            keys = list(self.figures)
            keys += [(gap.stream, gap.partition) for gap in self.gaps if (gap.stream, gap.partition) not in keys]
            partitions: list[dict[str, t.Any]] = []
            for stream, partition in dict.fromkeys(keys):
                figures = self.figures.get((stream, partition)) or PartitionFigures()
                partitions.append(
                    {
                        "stream": stream,
                        "partition": partition,
                        "records": figures.records,
                        "requests": figures.requests,
                        "retries": {cause: figures.retries[cause] for cause in RETRY_CAUSES},
                        "windows_split": figures.windows_split,
                        "unplaced": figures.unplaced,
                        "unparseable_timestamps": figures.unparseable_timestamps,
                        "skipped": figures.skipped,
                        "gaps": [
                            {"start": format_timestamp(gap.start), "end": format_timestamp(gap.end)}
                            for gap in self.gaps
                            if (gap.stream, gap.partition) == (stream, partition)
                        ],
                        "bookmark": bookmarks.get((stream, partition)),
                    }
                )
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "status": "succeeded" if succeeded and not self.failed else "failed",
            "partitions": partitions,
            "totals": {
                "records": sum(p["records"] for p in partitions),
                "requests": sum(p["requests"] for p in partitions),
                "retries": {cause: sum(p["retries"][cause] for p in partitions) for cause in RETRY_CAUSES},
                "windows_split": sum(p["windows_split"] for p in partitions),
                "unplaced": sum(p["unplaced"] for p in partitions),
                "unparseable_timestamps": sum(p["unparseable_timestamps"] for p in partitions),
                "partitions_skipped": sum(1 for p in partitions if p["skipped"]),
                "gaps": sum(len(p["gaps"]) for p in partitions),
            },
        }


def report_lines(report: dict[str, t.Any]) -> list[str]:
    """The closing report for a person: the totals, then one line per stream with each of its
    partitions (one line per stream, not per partition: a console a person reads stays short)."""
    totals = report["totals"]
    lines = [
        f"Run report ({report['status']}): {totals['records']} records written, {totals['requests']} requests, "
        f"{_retries(totals['retries'])}, {totals['windows_split']} window(s) split, "
        f"{totals['partitions_skipped']} partition(s) skipped, {totals['gaps']} gap(s) at the source"
        + _unplaceable(totals)
    ]
    streams: dict[str, list[str]] = {}
    for partition in report["partitions"]:
        streams.setdefault(partition["stream"], []).append(_partition_figures(partition))
    lines += [f"Run report: {stream}: " + "; ".join(partitions) for stream, partitions in streams.items()]
    return lines


def _partition_figures(partition: dict[str, t.Any]) -> str:
    said = f"{partition['partition']}: {partition['records']} records, {partition['requests']} requests"
    said += f", {_retries(partition['retries'])}"
    if partition["windows_split"]:
        said += f", {partition['windows_split']} window(s) split"
    said += _unplaceable(partition)
    if partition["skipped"]:
        said += f", skipped ({partition['skipped']})"
    if partition["gaps"]:
        said += ", gaps " + " and ".join(f"{gap['start']} to {gap['end']}" for gap in partition["gaps"])
    return said + f", bookmark {partition['bookmark'] or 'none'}"


def _unplaceable(figures: dict[str, t.Any]) -> str:
    """Said only when there are any: records without a usable replication value, other timestamps
    that are none."""
    said = ""
    if figures["unplaced"]:
        said += f", {figures['unplaced']} record(s) without a usable replication value (emitted as sent)"
    if figures["unparseable_timestamps"]:
        said += f", {figures['unparseable_timestamps']} timestamp value(s) that are none (passed on as sent)"
    return said


def report_json(report: dict[str, t.Any]) -> str:
    """One log line a monitor can parse: `REPORT_JSON_PREFIX` and one JSON object."""
    return REPORT_JSON_PREFIX + orjson.dumps(report).decode()


def _retries(retries: dict[str, int]) -> str:
    said = [f"{count} {cause}" for cause, count in retries.items() if count]
    return f"retries: {', '.join(said)}" if said else "no retries"


class StreamProgress:
    """One human line about a stream at most every `interval` seconds, and one at each partition's end.

    Called where a window or a chunk of records is handled, never per record: `time.monotonic()`
    is read once per chunk. Windows of partitions not started yet are not in the total.
    """

    def __init__(self, stream: str, report: RunReport, logger: logging.Logger, interval: float) -> None:
        self.stream, self.report, self.logger, self.interval = stream, report, logger, interval
        self.windows_total = self.windows_whole = 0
        self.started = self.last_said = time.monotonic()

    def add_windows(self, count: int) -> None:
        """A partition starts with `count` windows."""
        self.windows_total += count

    def window_whole(self) -> None:
        self.windows_whole += 1
        self.tick()

    def tick(self) -> None:
        if time.monotonic() - self.last_said >= self.interval:
            self.say()

    def partition_end(self, partition: str) -> None:
        self.say(f" ({partition} done)")

    def say(self, suffix: str = "") -> None:
        now = self.last_said = time.monotonic()
        elapsed = now - self.started
        records = self.report.records_of(self.stream)
        rate = records / elapsed if elapsed > 0 else 0.0
        left = self.windows_total - self.windows_whole
        if not left:
            eta = "no window left"
        elif self.windows_whole:
            eta = f"about {elapsed / self.windows_whole * left:.0f} s left"
        else:
            eta = "time left not known yet"
        self.logger.info(
            "Progress: %s: %d of %d windows whole, %d records written, %.0f records/s, %s%s",
            self.stream,
            self.windows_whole,
            self.windows_total,
            records,
            rate,
            eta,
            suffix,
        )
