"""A value the tap cannot place: a replication key missing, null or no timestamp, or another
timestamp field that is no timestamp. Never dropped and never a traceback: the record is emitted
once, as the API sent it, named in a WARNING (stream, partition, record key, field, value) and
counted in the run report; no bookmark claims it, and the run succeeds with every other record.

Why emitted rather than the partition stopped: stopped, the partition would stop at that record
on every run while the records after it age out of the API's retention (README, "Reliability")."""

from __future__ import annotations

import typing as t

import pytest

from emulator.http import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, TELNYX_AUDIT_EVENTS, assert_each_once, twilio_config
from tests.monitor_helpers import events_of
from tests.tap_runner import TapRun, catalog_selecting, run_tap
from tests.telnyx_helpers import events as telnyx_events
from tests.telnyx_helpers import telnyx_config, telnyx_emulator

ACCOUNT = f"account {DEFAULT_ACCOUNT_SID}"
#: How the replication key of the first record of an answer is spoiled: (fault settings, value sent).
SPOILED: dict[str, tuple[dict[str, t.Any], t.Any]] = {
    "null": ({"value": None}, None),
    "missing": ({"remove": True}, "missing"),
    "not a timestamp": ({"value": "yesterday at noon"}, "yesterday at noon"),
}


def run_spoiling(
    emulator,
    config: dict[str, t.Any],
    path: str,
    stream: str,
    field: str,
    how: str,
    everyone: set[str],
    key: str = "sid",
    skip: int = 0,
) -> tuple[TapRun, dict[str, t.Any]]:
    """A run of `stream` whose first answer from `path` (after `skip` answers) has its first
    record's `field` spoiled `how`: every record emitted once (`everyone`, by `key`), the spoiled
    one as sent; the run and that record."""
    settings, sent = SPOILED[how]
    emulator.faults.add(path, kind="undated", times=1, skip=skip, **settings)

    run = run_tap(config, catalog=catalog_selecting(config, [stream]))

    assert run.returncode == 0, run.stderr
    records = run.records[stream]
    assert_each_once([record[key] for record in records])
    assert {record[key] for record in records} == everyone
    [unplaced] = [record for record in records if field not in record or record[field] in (None, "yesterday at noon")]
    assert unplaced.get(field, "missing") == sent
    return run, unplaced


@pytest.mark.parametrize("how", list(SPOILED))
def test_monitor_events_without_a_usable_event_date_are_emitted_once_and_named(emulator, how):
    everyone = {event["sid"] for event in events_of(emulator)}
    run, unplaced = run_spoiling(
        emulator, twilio_config(emulator), "/v1/Events", MONITOR_EVENTS, "event_date", how, everyone
    )

    assert "Traceback" not in run.stderr
    sent = SPOILED[how][1]
    warning = [line for line in run.stderr.splitlines() if "places them in no time window" in line]
    assert len(warning) == 1, run.stderr
    assert MONITOR_EVENTS in warning[0] and ACCOUNT in warning[0] and f"sid {unplaced['sid']}" in warning[0]
    assert f"event_date {sent if how == 'missing' else 'null' if sent is None else repr(sent)}" in warning[0]
    assert run.report_of(MONITOR_EVENTS, ACCOUNT)["unplaced"] == 1
    assert run.run_report["totals"]["unplaced"] == 1
    # The newest event the tap could place (the spoiled one may be the newest: the probe reads newest first).
    assert run.bookmark(MONITOR_EVENTS, {"account_sid": DEFAULT_ACCOUNT_SID}) == max(
        event["event_date"] for event in events_of(emulator) if event["sid"] != unplaced["sid"]
    )


@pytest.mark.parametrize("how", list(SPOILED))
def test_monitor_alerts_without_a_usable_date_created_are_emitted_once(emulator, how):
    """Alerts are read through the result-cap splitting reader: the same rule holds there."""
    everyone = {alert["sid"] for alert in emulator.monitor.alerts[DEFAULT_ACCOUNT_SID]}
    run, _ = run_spoiling(
        emulator, twilio_config(emulator), "/v1/Alerts", MONITOR_ALERTS, "date_created", how, everyone
    )

    assert run.report_of(MONITOR_ALERTS, ACCOUNT)["unplaced"] == 1


@pytest.mark.parametrize("how", list(SPOILED))
def test_telnyx_events_without_a_usable_created_at_are_emitted_once_in_order(how):
    """The sorted reader (STATE after every page): the record neither breaks the order check nor
    becomes the bookmark."""
    with telnyx_emulator() as emulator:
        everyone = {event["id"] for event in telnyx_events(emulator)}
        config = telnyx_config(emulator, page_size=50)

        # The first answer is the probe of the whole range, busy at 50 a page: its page is read again
        # as a window's, so the fault spoils the answer after it (a page that is written).
        run, _ = run_spoiling(
            emulator, config, "/v2/audit_events", TELNYX_AUDIT_EVENTS, "created_at", how, everyone, key="id", skip=1
        )

        assert run.report_of(TELNYX_AUDIT_EVENTS, "the API key's organisation")["unplaced"] == 1
        bookmark = run.bookmark(TELNYX_AUDIT_EVENTS)
        assert bookmark is not None and bookmark.startswith("20")


def test_another_timestamp_that_is_none_is_passed_on_as_sent_and_named(emulator):
    emulator.faults.add(
        "/v1/Alerts", kind="undated", times=1, fields=frozenset({"date_generated"}), value="31/02/2026 25:00"
    )

    config = twilio_config(emulator)
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    records = run.records[MONITOR_ALERTS]
    assert_each_once([record["sid"] for record in records])
    assert len(records) == len(emulator.monitor.alerts[DEFAULT_ACCOUNT_SID])
    [odd] = [record for record in records if record["date_generated"] == "31/02/2026 25:00"]
    warning = [line for line in run.stderr.splitlines() if "is no timestamp" in line]
    assert len(warning) == 1, run.stderr
    assert MONITOR_ALERTS in warning[0] and ACCOUNT in warning[0] and f"sid {odd['sid']}" in warning[0]
    assert "date_generated '31/02/2026 25:00'" in warning[0]
    assert run.report_of(MONITOR_ALERTS, ACCOUNT)["unparseable_timestamps"] == 1
    assert run.report_of(MONITOR_ALERTS, ACCOUNT)["unplaced"] == 0


def test_a_field_that_is_never_a_timestamp_is_named_ten_times_and_counted_whole(emulator):
    emulator.faults.add("/v1/Alerts", kind="undated", times=40, fields=frozenset({"date_updated"}), value="not yet")
    config = twilio_config(emulator, page_size=2)  # many answers with records

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    # The first record of an answer may belong to another window (the query starts an hour early).
    spoiled = sum(record["date_updated"] == "not yet" for record in run.records[MONITOR_ALERTS])
    assert spoiled > 10
    warnings = [line for line in run.stderr.splitlines() if "is no timestamp" in line]
    assert len(warnings) == 10 and "more are counted in the run report" in warnings[-1]
    assert run.report_of(MONITOR_ALERTS, ACCOUNT)["unparseable_timestamps"] == spoiled
