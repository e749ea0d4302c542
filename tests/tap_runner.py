"""Runs the `tap-events` command against the emulator and reads what it wrote.

Two ways, the same command line and the same `TapRun`:

- `run_tap`: in the test's own process (the tap's click command, called as the console script
  calls it), stdout and stderr captured, the emulator over real HTTP on 127.0.0.1. No process
  start, no imports again: for every behaviour that needs neither a signal nor the exit status
  of a real process. Process-wide state a run touches is put back after it (`_like_a_new_process`).
- `run_tap_process` and `run_tap_and_kill`: the real command in a subprocess, for exit codes,
  `kill -9`, SIGTERM and what a process reads at start (environment, working directory).

`catalog_selecting` discovers the catalog in-process, once per session for each set of settings
that can change it (`_discovery_key`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
import warnings
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
from singer_sdk.logging import ConsoleFormatter

from tap_events.report import REPORT_JSON_PREFIX
from tap_events.tap import TapEvents
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
) -> TapRun:
    """The tap run in this process; `returncode` is the status the command would exit with."""
    with tempfile.TemporaryDirectory() as directory:
        arguments = tap_arguments(Path(directory), config, state, catalog, extra or [])[len(TAP_COMMAND) :]
        with _like_a_new_process(env or {}) as (stdout, stderr):
            returncode = _invoke(arguments)
            stdout.flush()
            output = stdout.buffer.getvalue().decode()  # type: ignore[attr-defined]
    return _tap_run(returncode, output, stderr.getvalue(), extra)


def run_tap_process(
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    extra: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> TapRun:
    """The real command in a subprocess: for exit codes and what a process reads at start."""
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
    return _tap_run(result.returncode, result.stdout, result.stderr, extra)


def _tap_run(returncode: int, stdout: str, stderr: str, extra: list[str] | None) -> TapRun:
    if {"--discover", "--about"} & set(extra or []):
        return TapRun(returncode, stdout, stderr)
    messages = parse_messages(stdout) if returncode == 0 else _tolerant(stdout)
    return TapRun(returncode, stdout, stderr, messages)


def _invoke(arguments: list[str]) -> int:
    """`tap-events ARGUMENTS` as the console script runs it, to the status it would exit with:
    click's own exits, `sys.exit`, and for an exception, the SDK's excepthook (the error logged
    with its traceback) and status 1, as the interpreter does."""
    command = TapEvents.get_singer_command()
    try:
        result = command.main(args=arguments, prog_name=TapEvents.name, standalone_mode=False)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Exception:
        getattr(command, "excepthook", sys.__excepthook__)(*sys.exc_info())
        return 1
    return result if isinstance(result, int) else 0


@contextlib.contextmanager
def _like_a_new_process(env: dict[str, str]) -> Iterator[tuple[io.TextIOWrapper, io.StringIO]]:
    """stdout and stderr of one run, with the console logging `TapEvents.cli` sets up (the SDK's
    formatter at the level LOGLEVEL asks for), and `env` set; afterwards, what the run changed
    for the whole process is put back: logging (handlers, levels, warnings captured), warning
    filters, signal handlers, the excepthook, the environment, the Logs rate limiters."""
    saved_env = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stderr = io.StringIO()
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(ConsoleFormatter())
    root = logging.getLogger()
    loggers = [root, *(item for item in root.manager.loggerDict.values() if isinstance(item, logging.Logger))]
    levels = {logger: logger.level for logger in loggers}
    handlers = {signal.SIGINT: signal.getsignal(signal.SIGINT), signal.SIGTERM: signal.getsignal(signal.SIGTERM)}
    excepthook = sys.excepthook
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            root.addHandler(handler)
            root.setLevel(_log_level())
            try:
                yield stdout, stderr
            finally:
                root.removeHandler(handler)
                logging.captureWarnings(False)
    finally:
        for logger, level in levels.items():
            logger.setLevel(level)
        for number, previous in handlers.items():
            signal.signal(number, previous)
        sys.excepthook = excepthook
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _log_level() -> str:
    """What `TapEvents.cli` gives the console: TAP_EVENTS_LOGLEVEL, LOGLEVEL or INFO."""
    return (os.environ.get("TAP_EVENTS_LOGLEVEL") or os.environ.get("LOGLEVEL") or "INFO").upper()


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
    catalog = copy.deepcopy(_discovered(_discovery_key(config)))
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


#: Settings that say where and from when to read: they change neither which streams the tap
#: has nor their schemas, so configs differing only in them share one discovery.
_NOT_IN_DISCOVERY = ("start_date", "end_date")


def _discovery_key(config: dict[str, t.Any]) -> str:
    return json.dumps(
        {
            name: value
            for name, value in config.items()
            if name not in _NOT_IN_DISCOVERY and not name.endswith("_base_url")
        },
        sort_keys=True,
    )


@functools.cache
def _discovered(key: str) -> dict[str, t.Any]:
    """`tap-events --discover`, once per session for each `_discovery_key`."""
    discovered = run_tap(json.loads(key), extra=["--discover"])
    assert discovered.returncode == 0, discovered.stderr
    return t.cast("dict[str, t.Any]", json.loads(discovered.stdout))
