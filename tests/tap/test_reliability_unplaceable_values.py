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
from tests.tap_runner import catalog_selecting, run_tap
from tests.telnyx_helpers import events as telnyx_events
from tests.telnyx_helpers import telnyx_config, telnyx_emulator

ACCOUNT = f"account {DEFAULT_ACCOUNT_SID}"
#: How the replication key of the first record of an answer is spoiled: (fault settings, value sent).
SPOILED: dict[str, tuple[dict[str, t.Any], t.Any]] = {
    "null": ({"value": None}, None),
    "missing": ({"remove": True}, "missing"),
    "not a timestamp": ({"value": "yesterday at noon"}, "yesterday at noon"),
}


def _spoiled(records, field):
    return [record for record in records if field not in record or record[field] in (None, "yesterday at noon")]


def _as_sent(record, field):
    return record.get(field, "missing")


@pytest.mark.parametrize("how", list(SPOILED))
def test_monitor_events_without_a_usable_event_date_are_emitted_once_and_named(emulator, how):
    settings, sent = SPOILED[how]
    emulator.faults.add("/v1/Events", kind="undated", times=1, **settings)

    config = twilio_config(emulator)
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    records = run.records[MONITOR_EVENTS]
    assert_each_once([record["sid"] for record in records])
    assert {record["sid"] for record in records} == {event["sid"] for event in events_of(emulator)}
    [unplaced] = _spoiled(records, "event_date")
    assert _as_sent(unplaced, "event_date") == sent
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
    settings, sent = SPOILED[how]
    emulator.faults.add("/v1/Alerts", kind="undated", times=1, **settings)

    config = twilio_config(emulator)
    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    records = run.records[MONITOR_ALERTS]
    assert_each_once([record["sid"] for record in records])
    alerts = emulator.monitor.alerts[DEFAULT_ACCOUNT_SID]
    assert {record["sid"] for record in records} == {alert["sid"] for alert in alerts}
    [unplaced] = _spoiled(records, "date_created")
    assert _as_sent(unplaced, "date_created") == sent
    assert run.report_of(MONITOR_ALERTS, ACCOUNT)["unplaced"] == 1


@pytest.mark.parametrize("how", list(SPOILED))
def test_telnyx_events_without_a_usable_created_at_are_emitted_once_in_order(how):
    """The sorted reader (STATE after every page): the record neither breaks the order check nor
    becomes the bookmark."""
    settings, sent = SPOILED[how]
    with telnyx_emulator() as emulator:
        # The first answer is the probe of the whole range, busy at 50 a page: its page is read again
        # as a window's, so the fault spoils the answer after it (a page that is written).
        emulator.faults.add("/v2/audit_events", kind="undated", times=1, skip=1, **settings)
        config = telnyx_config(emulator, page_size=50)

        run = run_tap(config, catalog=catalog_selecting(config, [TELNYX_AUDIT_EVENTS]))

        assert run.returncode == 0, run.stderr
        records = run.records[TELNYX_AUDIT_EVENTS]
        assert_each_once([record["id"] for record in records])
        assert {record["id"] for record in records} == {event["id"] for event in telnyx_events(emulator)}
        [unplaced] = _spoiled(records, "created_at")
        assert _as_sent(unplaced, "created_at") == sent
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
