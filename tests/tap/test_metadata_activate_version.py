"""`activate-version`: with `emit_activate_version_messages`, every full-table stream announces
one table version before its records and stamps every record with it, so that a target that
honours ACTIVATE_VERSION can drop rows the source no longer lists (a deleted workspace)."""

from __future__ import annotations

import typing as t

import pytest

from tests.common import SERVERLESS_ENVIRONMENTS, SERVERLESS_SERVICES, TASKROUTER_WORKSPACES, iso
from tests.meltano_helpers import small_emulator, start_date
from tests.tap_runner import TapRun, run_tap

FULL_TABLE = {TASKROUTER_WORKSPACES, SERVERLESS_SERVICES, SERVERLESS_ENVIRONMENTS}


def activations(run: TapRun) -> dict[str, set[int]]:
    versions: dict[str, set[int]] = {}
    for message in run.messages:
        if message["type"] == "ACTIVATE_VERSION":
            versions.setdefault(message["stream"], set()).add(message["version"])
    return versions


def record_versions(run: TapRun, stream: str) -> set[t.Any]:
    records = [message for message in run.messages if message["type"] == "RECORD" and message["stream"] == stream]
    return {message.get("version") for message in records}


@pytest.fixture(scope="module")
def versioned() -> TapRun:
    with small_emulator() as emulator:
        run = run_tap(emulator.tap_config(start_date=iso(start_date()), emit_activate_version_messages=True))
    assert run.returncode == 0, run.stderr
    return run


def test_each_full_table_stream_announces_one_version_before_its_records(versioned):
    run = versioned
    versions = activations(run)
    assert set(versions) == FULL_TABLE
    for stream in FULL_TABLE:
        [version] = versions[stream]
        kinds = [m["type"] for m in run.messages if m.get("stream") == stream and m["type"] != "SCHEMA"]
        assert kinds[0] == "ACTIVATE_VERSION" and "RECORD" in kinds
        assert record_versions(run, stream) == {version}


def test_incremental_streams_carry_no_version(versioned):
    run = versioned
    incremental = set(run.records) - FULL_TABLE
    assert incremental
    for stream in incremental:
        assert record_versions(run, stream) == {None}


def test_without_the_setting_no_version_is_sent():
    with small_emulator() as emulator:
        run = run_tap(emulator.tap_config(start_date=iso(start_date())))

    assert run.returncode == 0, run.stderr
    assert activations(run) == {}
    assert all("version" not in message for message in run.messages if message["type"] == "RECORD")
