"""When a run ends, successful or not, a closing report says per stream and partition what was written,
the requests sent, the retries by cause, the windows split and the final bookmark, for a person and as
one JSON line (`tap-events run report: {...}`) for monitoring."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, iso
from tests.monitor_helpers import events_only_settings, midnight, monitor_api
from tests.tap_runner import catalog_selecting, run_tap_process

STREAM = "twilio_monitor_events"
PARTITION = f"account {DEFAULT_ACCOUNT_SID}"


@pytest.fixture
def events_only(emulator):
    return events_only_settings(emulator, page_size=50, max_request_retries=8, request_timeout_seconds=2)


def test_the_report_counts_what_the_run_did_with_faults_injected(emulator, events_only):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", status=500, times=1)
    emulator.faults.add("/v1/Events", status=503, times=1)
    emulator.faults.add("/v1/Events", status=429, code=20429, retry_after="1", times=1)
    emulator.faults.add("/v1/Events", kind="truncate", times=1)
    emulator.faults.add("/v1/Events", kind="delay", delay=3.0, times=1)
    emulator.faults.add("/v1/Events", kind="reset", times=1)

    run = run_tap_process(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    report = run.run_report
    assert report["status"] == "succeeded"
    assert [(entry["stream"], entry["partition"]) for entry in report["partitions"]] == [(STREAM, PARTITION)]
    events = run.report_of(STREAM, PARTITION)
    assert events["records"] == len(run.records[STREAM])
    assert events["requests"] == len(emulator.seen)
    assert events["retries"] == {"5xx": 2, "429": 1, "timeout": 1, "truncated_body": 1, "connection": 1}
    assert events["windows_split"] == 0
    assert events["skipped"] is None
    assert events["gaps"] == []
    assert events["bookmark"] == run.bookmark(STREAM, {"account_sid": DEFAULT_ACCOUNT_SID})
    assert report["totals"]["records"] == len(run.records[STREAM])
    assert report["totals"]["requests"] == len(emulator.seen)


def test_the_report_is_said_for_a_person_too(emulator, events_only):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", status=502, times=1)

    run = run_tap_process(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    records, requests = len(run.records[STREAM]), len(emulator.seen)
    bookmark = run.bookmark(STREAM, {"account_sid": DEFAULT_ACCOUNT_SID})
    assert f"Run report (succeeded): {records} records written, {requests} requests, retries: 1 5xx" in run.stderr
    assert (
        f"Run report: {STREAM}: {PARTITION}: {records} records, {requests} requests, retries: 1 5xx, "
        f"bookmark {bookmark}" in run.stderr
    )


def test_a_run_with_a_failed_partition_still_ends_with_the_report(emulator, events_only):
    config, catalog = events_only
    emulator.faults.add("/v1/Events", status=403, code=20003, times=1)

    run = run_tap_process(config, catalog=catalog)

    assert run.returncode != 0
    assert run.run_report["status"] == "failed"
    events = run.report_of(STREAM, PARTITION)
    assert events["skipped"] == "failed"
    assert events["records"] == len(run.records[STREAM])
    assert events["requests"] == len(emulator.seen)
    assert "Run report (failed)" in run.stderr


def test_windows_split_at_the_alerts_limit_are_counted(alerts_emulator):
    day = midnight(1)
    monitor_api(alerts_emulator).add_alerts([day + dt.timedelta(seconds=i % 3600) for i in range(10_500)])
    config = alerts_emulator.tap_config(
        telnyx_api_key=None, start_date=iso(day), end_date=iso(day + dt.timedelta(days=1)), page_size=1000
    )

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    splits = run.stderr.count("reading it in two halves")
    assert splits > 0
    alerts = run.report_of(MONITOR_ALERTS, PARTITION)
    assert alerts["windows_split"] == splits
    assert alerts["records"] == len(run.records[MONITOR_ALERTS]) == 10_500
    assert alerts["requests"] == len(alerts_emulator.seen)
