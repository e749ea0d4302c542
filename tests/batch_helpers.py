"""Runs in BATCH mode (`batch_config`: gzipped JSONL files in a local folder) and what they announced."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import typing as t
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.tap_runner import TapRun


def batch_config(directory: Path, batch_size: int) -> dict[str, t.Any]:
    """The SDK's `batch_config` setting as a user writes it: JSONL, gzip, a local folder."""
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": directory.as_uri(), "prefix": "batch-"},
        "batch_size": batch_size,
    }


def batch_records(message: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The records of the files a BATCH message announces."""
    records = []
    for url in message["manifest"]:
        with gzip.open(urlsplit(url).path, "rt") as lines:
            records += [json.loads(line) for line in lines]
    return records


def batched(run: TapRun, stream: str) -> list[dict[str, t.Any]]:
    """Every record of `stream` in the files the run's BATCH messages announced, in order."""
    return [
        record
        for message in run.messages
        if message["type"] == "BATCH" and message["stream"] == stream
        for record in batch_records(message)
    ]


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def bookmarks(state: dict[str, t.Any], stream: str) -> list[tuple[dict[str, t.Any], str]]:
    """(partition context, bookmark) of every bookmark a STATE holds for `stream`."""
    stream_state = state.get("bookmarks", {}).get(stream, {})
    entries = [stream_state, *stream_state.get("partitions", [])]
    return [
        (entry.get("context", {}), entry["replication_key_value"])
        for entry in entries
        if "replication_key_value" in entry
    ]


def claims_ahead_of_batches(
    run: TapRun, stream: str, every: list[dict[str, t.Any]], key: str, replication_key: str
) -> Iterator[tuple[int, set[str]]]:
    """(message position, keys) of each STATE and the records of `every` it claims that no BATCH
    message before it announced. A STATE claims every record of its partition older than its
    bookmark: a run resumed from it starts at the bookmark."""
    announced: set[str] = set()
    for position, message in enumerate(run.messages):
        if message["type"] == "BATCH" and message["stream"] == stream:
            announced |= {record[key] for record in batch_records(message)}
        elif message["type"] == "STATE":
            for context, bookmark in bookmarks(message["value"], stream):
                claimed = {
                    record[key]
                    for record in every
                    if all(record.get(name) == value for name, value in context.items())
                    and _parse(record[replication_key]) < _parse(bookmark)
                }
                yield position, claimed - announced
