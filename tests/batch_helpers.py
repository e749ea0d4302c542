"""Runs in BATCH mode (`batch_config`: gzipped JSONL files in a local folder) and what they announced."""

from __future__ import annotations

import gzip
import json
import typing as t
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.common import bookmarks, parse
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
                    and parse(record[replication_key]) < parse(bookmark)
                }
                yield position, claimed - announced
