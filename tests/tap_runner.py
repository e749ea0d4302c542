"""Runs the real `tap-events` command against the emulator and reads what it wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tap_events.report import REPORT_JSON_PREFIX
from tests.common import bookmark_of

TAP_COMMAND = [sys.executable, "-m", "tap_events"]


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, t.Any]] = field(default_factory=list)

    @property
    def records(self) -> dict[str, list[dict[str, t.Any]]]:
        by_stream: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                by_stream[message["stream"]].append(message["record"])
        return by_stream

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [message["value"] for message in self.messages if message["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, t.Any]:
        return self.states[-1]

    @property
    def run_report(self) -> dict[str, t.Any]:
        """The closing report's JSON line (the last one, there is one per run)."""
        lines = [line for line in self.stderr.splitlines() if REPORT_JSON_PREFIX in line]
        assert lines, f"no closing report in the tap's log:\n{self.stderr[-3000:]}"
        return t.cast("dict[str, t.Any]", json.loads(lines[-1].split(REPORT_JSON_PREFIX, 1)[1]))

    def report_of(self, stream: str, partition: str) -> dict[str, t.Any]:
        """One partition's entry in the closing report (`partition` as the tap names it: "account AC…")."""
        entries = [
            entry
            for entry in self.run_report["partitions"]
            if (entry["stream"], entry["partition"]) == (stream, partition)
        ]
        assert len(entries) == 1, self.run_report
        return entries[0]

    def bookmark(self, stream: str, context: dict[str, t.Any] | None = None) -> str | None:
        """The stream's bookmark; for a partitioned stream, the one of `context`."""
        return bookmark_of(self.final_state, stream, context)


def partitioned_state(
    stream: str, replication_key: str, bookmarks: dict[str, str], key: str = "account_sid"
) -> dict[str, t.Any]:
    """A STATE with one bookmark per partition (`key` value -> bookmark)."""
    return state_of_partitions(
        stream, replication_key, [({key: value}, bookmark) for value, bookmark in bookmarks.items()]
    )


def state_of_partitions(
    stream: str, replication_key: str, bookmarks: t.Iterable[tuple[dict[str, t.Any], str]]
) -> dict[str, t.Any]:
    """A STATE with one bookmark per partition, each given as (context, bookmark)."""
    return {
        "bookmarks": {
            stream: {
                "partitions": [
                    {"context": context, "replication_key": replication_key, "replication_key_value": bookmark}
                    for context, bookmark in bookmarks
                ]
            }
        }
    }


def parse_messages(stdout: str) -> list[dict[str, t.Any]]:
    """One message a line, lines ending in "\n" only, as a target reads them (`str.splitlines` would
    also cut at U+2028 or \x85, which JSON strings may hold as they are)."""
    return [json.loads(line) for line in stdout.split("\n") if line.strip()]


def _write_json(directory: Path, name: str, value: t.Any) -> str:
    path = directory / name
    path.write_text(json.dumps(value))
    return str(path)


def tap_arguments(
    directory: Path,
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None,
    catalog: dict[str, t.Any] | None,
    extra: list[str],
) -> list[str]:
    arguments = [*TAP_COMMAND, "--config", _write_json(directory, "config.json", config)]
    if state is not None:
        arguments += ["--state", _write_json(directory, "state.json", state)]
    if catalog is not None:
        arguments += ["--catalog", _write_json(directory, "catalog.json", catalog)]
    return arguments + extra


def run_tap(
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    extra: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> TapRun:
    with tempfile.TemporaryDirectory() as directory:
        arguments = tap_arguments(Path(directory), config, state, catalog, extra or [])
        result = subprocess.run(
            arguments,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
    if {"--discover", "--about"} & set(extra or []):
        return TapRun(result.returncode, result.stdout, result.stderr)
    messages = parse_messages(result.stdout) if result.returncode == 0 else _tolerant(result.stdout)
    return TapRun(result.returncode, result.stdout, result.stderr, messages)


def _tolerant(stdout: str) -> list[dict[str, t.Any]]:
    messages = []
    for line in stdout.split("\n"):
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return messages


def run_tap_and_kill(
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    kill_when: t.Callable[[list[dict[str, t.Any]]], bool],
    timeout: float = 120,
    signal_number: int = signal.SIGKILL,
    and_then: t.Callable[[], bool] | None = None,
) -> TapRun:
    """Run the tap and `kill -9` it (or send `signal_number`) as soon as `kill_when(messages so far)` is true,
    and `and_then()` too when given: polled, for progress the output does not show (requests served)."""
    with tempfile.TemporaryDirectory() as directory:
        arguments = tap_arguments(Path(directory), config, state, catalog, [])
        process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert process.stdout is not None
        lines: list[str] = []
        messages: list[dict[str, t.Any]] = []
        killed = False
        for line in process.stdout:
            lines.append(line)
            messages.append(json.loads(line))
            if kill_when(messages):
                while and_then is not None and not and_then() and process.poll() is None:
                    time.sleep(0.01)
                os.kill(process.pid, signal_number)
                killed = True
                break
        process.wait(timeout=timeout)
        assert killed, "the run finished before it could be killed: make it slower"
        # Whatever was already in the pipe when it died is still the run's output.
        rest = process.stdout.read()
        process.stdout.close()
        messages += _tolerant(rest)
    return TapRun(process.returncode, "".join(lines) + rest, "", messages)


def catalog_selecting(config: dict[str, t.Any], streams: t.Iterable[str]) -> dict[str, t.Any]:
    """The tap's own discovered catalog with only `streams` selected."""
    wanted = set(streams)
    discovered = run_tap(config, extra=["--discover"])
    assert discovered.returncode == 0, discovered.stderr
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog
