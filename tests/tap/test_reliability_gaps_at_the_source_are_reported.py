"""A partition whose bookmark is older than what the API still keeps: the events in between are gone
at the source. The run says so precisely: one WARNING per partition naming the stream, the partition
and the exact range, and the run's closing summary counts the ranges."""

from __future__ import annotations

import datetime as dt
import re

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import (
    MONITOR_ALERTS,
    MONITOR_EVENTS,
    SERVERLESS_LOGS,
    TASKROUTER_EVENTS,
    TASKROUTER_WORKSPACES,
    TELNYX_AUDIT_EVENTS,
    twilio_config,
)
from tests.monitor_helpers import events_of
from tests.serverless_helpers import environments
from tests.tap_runner import TapRun, catalog_selecting, run_tap, state_of_partitions
from tests.taskrouter_helpers import all_event_sids, catalog, partition, sids, workspace_sids

RETENTION = dt.timedelta(days=30)
GAP_WARNING = re.compile(
    r"WARNING .*?\| (\S+): (.+?): last read up to \S+, longer ago than .* the events from (.+) can no longer be read"
)


def seconds(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def forty_days_ago() -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).replace(microsecond=0)


def gap_warnings(run: TapRun) -> list[tuple[str, str, str]]:
    """(stream, partition, ranges) of every gap WARNING the run logged."""
    return [(match[1], match[2], match[3]) for line in run.stderr.splitlines() if (match := GAP_WARNING.search(line))]


def run_timed(config: dict, **kwargs) -> tuple[TapRun, dt.datetime, dt.datetime]:
    before = dt.datetime.now(dt.UTC)
    run = run_tap(config, **kwargs)
    return run, before, dt.datetime.now(dt.UTC)


def assert_ends_where_the_api_keeps_data(ranges: str, bookmark: dt.datetime, before: dt.datetime, after: dt.datetime):
    """One range, from the bookmark to (a few minutes inside) the oldest moment the API keeps."""
    start, _, end = ranges.partition(" to ")
    assert start == seconds(bookmark)
    oldest = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
    assert before - RETENTION <= oldest <= after - RETENTION + dt.timedelta(minutes=5)


def test_taskrouter_names_every_workspace_and_the_range_it_can_no_longer_read(emulator):
    bookmark = forty_days_ago()
    workspaces = workspace_sids(emulator)
    state = state_of_partitions(
        TASKROUTER_EVENTS, "event_date", [(partition(sid), seconds(bookmark)) for sid in workspaces]
    )

    run, before, after = run_timed(
        twilio_config(emulator), state=state, catalog=catalog(TASKROUTER_WORKSPACES, TASKROUTER_EVENTS)
    )

    assert run.returncode == 0, run.stderr
    warnings = gap_warnings(run)
    assert sorted(named for _, named, _ in warnings) == sorted(
        f"account {DEFAULT_ACCOUNT_SID}, workspace {sid}" for sid in workspaces
    )
    for stream, _, ranges in warnings:
        assert stream == TASKROUTER_EVENTS
        assert_ends_where_the_api_keeps_data(ranges, bookmark, before, after)
    assert f"{len(workspaces)} time range(s) are older than the source keeps" in run.stderr
    assert all(seen.status == 200 for seen in emulator.seen), "nothing older than 30 days was asked for"
    assert sids(run.records[TASKROUTER_EVENTS]) == all_event_sids(emulator)


def test_a_partition_read_recently_is_no_gap_however_old_its_bookmark(emulator):
    # A quiet workspace: no event for 40 days, but the last run read it up to an hour ago.
    read_through = seconds(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    state = state_of_partitions(
        TASKROUTER_EVENTS,
        "event_date",
        [(partition(sid), seconds(forty_days_ago())) for sid in workspace_sids(emulator)],
    )
    for entry in state["bookmarks"][TASKROUTER_EVENTS]["partitions"]:
        entry["read_through"] = read_through

    run = run_tap(twilio_config(emulator), state=state, catalog=catalog(TASKROUTER_WORKSPACES, TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert gap_warnings(run) == []
    assert "time range(s) are older than the source keeps" not in run.stderr


def test_a_run_records_how_far_it_read_each_partition(emulator):
    before = seconds(dt.datetime.now(dt.UTC))

    run = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_WORKSPACES, TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    partitions = run.final_state["bookmarks"][TASKROUTER_EVENTS]["partitions"]
    assert len(partitions) == len(workspace_sids(emulator))
    # Up to the moment the run started, past the newest event: not only as far as the bookmark.
    assert all(entry["read_through"] >= before for entry in partitions)
    assert all(entry["read_through"] > entry["replication_key_value"] for entry in partitions)


def test_serverless_logs_name_every_environment_of_every_service(emulator):
    bookmark = forty_days_ago()
    contexts = [
        {"account_sid": DEFAULT_ACCOUNT_SID, "service_sid": env["service_sid"], "environment_sid": env["sid"]}
        for env in environments(emulator)
    ]
    state = state_of_partitions(SERVERLESS_LOGS, "date_created", [(context, seconds(bookmark)) for context in contexts])

    run, before, after = run_timed(
        twilio_config(emulator), state=state, catalog=catalog_selecting(twilio_config(emulator), [SERVERLESS_LOGS])
    )

    assert run.returncode == 0, run.stderr
    warnings = gap_warnings(run)
    assert sorted(named for _, named, _ in warnings) == sorted(
        f"account {c['account_sid']}, service {c['service_sid']}, environment {c['environment_sid']}" for c in contexts
    )
    for stream, _, ranges in warnings:
        assert stream == SERVERLESS_LOGS
        assert_ends_where_the_api_keeps_data(ranges, bookmark, before, after)
    assert f"{len(contexts)} time range(s) are older than the source keeps" in run.stderr


def assert_one_gap_naming_the_account(emulator, stream: str, replication_key: str) -> TapRun:
    """A run from the account's bookmark forty days ago: one gap WARNING, naming the account, from
    the bookmark to where the API keeps data."""
    bookmark = forty_days_ago()
    state = state_of_partitions(stream, replication_key, [({"account_sid": DEFAULT_ACCOUNT_SID}, seconds(bookmark))])

    run, before, after = run_timed(
        twilio_config(emulator), state=state, catalog=catalog_selecting(twilio_config(emulator), [stream])
    )

    assert run.returncode == 0, run.stderr
    ((named_stream, named, ranges),) = gap_warnings(run)
    assert (named_stream, named) == (stream, f"account {DEFAULT_ACCOUNT_SID}")
    assert_ends_where_the_api_keeps_data(ranges, bookmark, before, after)
    assert "1 time range(s) are older than the source keeps" in run.stderr
    return run


def test_monitor_alerts_name_the_account(emulator):
    assert_one_gap_naming_the_account(emulator, MONITOR_ALERTS, "date_created")


def test_monitor_events_days_refused_as_too_old_are_the_gap(emulator):
    # Monitor Events may be kept 13 months: the old days are asked for, and this API refuses them.
    emulator.monitor.retention_answer = "refuse"
    run = assert_one_gap_naming_the_account(emulator, MONITOR_EVENTS, "event_date")

    assert {r["sid"] for r in run.records[MONITOR_EVENTS]} == {event["sid"] for event in events_of(emulator)}


def test_monitor_events_trimmed_silently_are_warned_about_but_not_claimed(emulator):
    # Trimmed without a sign: the tap cannot tell a 30-day edition from a 13-month one.
    bookmark = forty_days_ago()
    state = state_of_partitions(
        MONITOR_EVENTS, "event_date", [({"account_sid": DEFAULT_ACCOUNT_SID}, seconds(bookmark))]
    )

    config = twilio_config(emulator)
    run = run_tap(config, state=state, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    assert "older records may be missing at the source" in run.stderr
    assert gap_warnings(run) == []


def test_telnyx_windows_refused_as_too_old_are_the_gap_of_the_organisation(emulator):
    # Telnyx does not document a retention: this one keeps 30 days and refuses older queries.
    emulator.telnyx.retention = RETENTION
    emulator.telnyx.retention_answer = "refuse"
    bookmark = forty_days_ago()
    state = {
        "bookmarks": {
            TELNYX_AUDIT_EVENTS: {"replication_key": "created_at", "replication_key_value": seconds(bookmark)}
        }
    }
    config = emulator.tap_config(twilio_account_sid=None, twilio_auth_token=None)

    run, before, after = run_timed(config, state=state)

    assert run.returncode == 0, run.stderr
    ((stream, named, ranges),) = gap_warnings(run)
    assert (stream, named) == (TELNYX_AUDIT_EVENTS, "the API key's organisation")
    assert_ends_where_the_api_keeps_data(ranges, bookmark, before, after)
    assert len(run.records[TELNYX_AUDIT_EVENTS]) == len(emulator.telnyx.events["org-emulator"])


def test_a_gap_ends_where_the_run_ends_with_an_end_date(emulator):
    bookmark = forty_days_ago()
    end = bookmark + dt.timedelta(days=5)
    config = twilio_config(emulator, start_date=seconds(bookmark - dt.timedelta(days=1)), end_date=seconds(end))
    state = state_of_partitions(
        TASKROUTER_EVENTS, "event_date", [(partition(sid), seconds(bookmark)) for sid in workspace_sids(emulator)]
    )

    run = run_tap(config, state=state, catalog=catalog(TASKROUTER_WORKSPACES, TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert {ranges for _, _, ranges in gap_warnings(run)} == {f"{seconds(bookmark)} to {seconds(end)}"}
