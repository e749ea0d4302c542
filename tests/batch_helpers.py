"""Runs in BATCH mode (`batch_config`: gzipped JSONL files in a local folder) and what they announced."""

from __future__ import annotations

import gzip
import json
import typing as t
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
