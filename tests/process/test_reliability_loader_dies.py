"""A loader that dies: the target exits mid-run and its stdin, the tap's stdout, closes.

The tap stops with one clear line and a non-zero exit, no traceback from any thread, and no request
of its left running; a run from the last STATE the target stored loses nothing. The target is a
real Singer target process (`tests/singer_target.py`) fed by the tap's real stdout."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from tests.monitor_helpers import events_of, events_only_settings
from tests.tap_runner import tap_arguments

#: The target dies after this many records, of the default data set's 600 Monitor Events.
RECORDS_BEFORE_DYING = 150


class Pipeline(t.NamedTuple):
    returncode: int
    stderr: str
    stored: list[dict[str, t.Any]]
    states: list[dict[str, t.Any]]


def run_pipeline(directory: Path, config: dict, catalog: dict, state: dict | None, exit_after: int | None) -> Pipeline:
    """`tap | target`, as Meltano runs them: the target's stdout carries the STATE it stored."""
    directory.mkdir()
    stderr_path = directory / "tap.stderr"
    with stderr_path.open("wb") as stderr:
        tap = subprocess.Popen(
            tap_arguments(directory, config, state, catalog, []), stdout=subprocess.PIPE, stderr=stderr
        )
        target_command = [sys.executable, "-m", "tests.singer_target", str(directory / "target")]
        if exit_after is not None:
            target_command += ["--exit-after", str(exit_after)]
        target = subprocess.Popen(target_command, stdin=tap.stdout, stdout=subprocess.PIPE, text=True)
        assert tap.stdout is not None
        tap.stdout.close()  # the target alone holds the pipe's reading end
        target_output, _ = target.communicate(timeout=120)
        returncode = tap.wait(timeout=120)  # a hang fails here, not a measure of speed
    records = (directory / "target" / "records.jsonl").read_text().splitlines()
    return Pipeline(
        returncode,
        stderr_path.read_text(),
        [json.loads(line)["record"] for line in records],
        [json.loads(line) for line in target_output.splitlines()],
    )


@pytest.fixture
def events_only(emulator):
    emulator.latency = 0.02  # a run long enough to die in
    return events_only_settings(emulator, page_size=25)


def test_the_tap_stops_with_one_line_and_a_non_zero_exit(emulator, events_only, tmp_path):
    config, catalog = events_only

    died = run_pipeline(tmp_path / "run", config, catalog, None, RECORDS_BEFORE_DYING)

    assert died.returncode == 1
    assert len(died.stored) == RECORDS_BEFORE_DYING
    assert died.stderr.count("The target stopped reading") == 1, died.stderr
    for noise in ("Traceback", "Exception ignored", "BrokenPipeError", "An unhandled error occurred"):
        assert noise not in died.stderr, died.stderr


def test_no_request_of_the_tap_is_left_running(emulator, events_only, tmp_path):
    config, catalog = events_only

    run_pipeline(tmp_path / "run", config, catalog, None, RECORDS_BEFORE_DYING)
    answered = len(emulator.seen)
    time.sleep(1.0)  # what a worker left running would ask for next

    assert emulator.in_flight == 0
    assert len(emulator.seen) == answered


def test_a_run_from_the_state_the_target_stored_loses_nothing(emulator, events_only, tmp_path):
    config, catalog = events_only

    died = run_pipeline(tmp_path / "died", config, catalog, None, RECORDS_BEFORE_DYING)
    assert died.states, "the target stored no STATE before dying: make it die later"
    rerun = run_pipeline(tmp_path / "rerun", config, catalog, died.states[-1], None)

    assert rerun.returncode == 0, rerun.stderr
    loaded = {record["sid"] for record in died.stored + rerun.stored}
    assert loaded == {event["sid"] for event in events_of(emulator)}
