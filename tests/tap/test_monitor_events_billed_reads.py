"""Twilio bills every Monitor Event read. Events come newest first and their filter is day-granular,
so an incremental run stops paging a day once a page reaches below `bookmark - lookback`."""

from __future__ import annotations

import datetime as dt
import random

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS, assert_each_once, iso, parse
from tests.monitor_helpers import events_of, get_events, monitor_api
from tests.tap_runner import TapRun, catalog_selecting, run_tap

PAGE_SIZE = 100
LOOKBACK = dt.timedelta(minutes=10)


def _incremental_after_late_and_new_events(emulator: Emulator) -> tuple[TapRun, int, set[str], str]:
    """A full run over a busy last six hours, then new events and late ones (inside the lookback,
    some exactly on its bound's second), then an incremental run: that run, what it read, the
    SIDs it must emit, and the bound."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rng = random.Random(4)
    monitor_api(emulator).add_events(now - dt.timedelta(seconds=rng.randrange(60, 6 * 3600)) for _ in range(3_000))
    config = emulator.tap_config(
        telnyx_api_key=None,
        start_date=iso(now - dt.timedelta(days=2)),
        page_size=PAGE_SIZE,
        lookback_window_minutes=LOOKBACK // dt.timedelta(minutes=1),
    )
    catalog = catalog_selecting(config, [MONITOR_EVENTS])
    full = run_tap(config, catalog=catalog)
    assert full.returncode == 0, full.stderr
    bookmark = parse(full.bookmark(MONITOR_EVENTS, {"account_sid": DEFAULT_ACCOUNT_SID}) or "")
    bound = bookmark - LOOKBACK
    new = monitor_api(emulator).add_events([dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)] * 3)
    # More events on the bound's second than a page holds: a page of only that second is no stop.
    late = monitor_api(emulator).add_events([bound] * (PAGE_SIZE + 50) + [bookmark - dt.timedelta(minutes=5), bookmark])
    read_before = emulator.records_sent["/v1/Events"]

    incremental = run_tap(config, state=full.final_state, catalog=catalog)

    assert incremental.returncode == 0, incremental.stderr
    return incremental, emulator.records_sent["/v1/Events"] - read_before, {e["sid"] for e in new + late}, iso(bound)


def _expected(emulator: Emulator, bound: str) -> set[str]:
    return {event["sid"] for event in events_of(emulator) if event["event_date"] >= bound}


def test_emulator_counts_the_records_it_sends_per_endpoint(emulator):
    for _ in range(2):
        response = get_events(emulator, PageSize="50")
        assert len(response.json()["events"]) == 50

    assert emulator.records_sent["/v1/Events"] == 100
    assert emulator.records_sent["/v1/Alerts"] == 0


def test_an_incremental_run_reads_at_most_the_events_it_emits_plus_one_page(emulator):
    run, read, must_emit, bound = _incremental_after_late_and_new_events(emulator)

    emitted = [record["sid"] for record in run.records[MONITOR_EVENTS]]
    assert_each_once(emitted, "event")
    assert must_emit <= set(emitted), "a new or late event was not emitted"
    assert set(emitted) == _expected(emulator, bound)
    assert read <= len(emitted) + PAGE_SIZE
    on_the_bounds_day = [event for event in events_of(emulator) if event["event_date"][:10] == bound[:10]]
    assert read < len(on_the_bounds_day), "the run read the whole day"


def test_pages_out_of_order_are_read_to_the_end_of_the_day_and_lose_nothing():
    with Emulator(shuffle_event_pages=True) as emulator:
        run, read, must_emit, bound = _incremental_after_late_and_new_events(emulator)

        emitted = [record["sid"] for record in run.records[MONITOR_EVENTS]]
        assert_each_once(emitted, "event")
        assert must_emit <= set(emitted)
        assert set(emitted) == _expected(emulator, bound)
        days = {bound[:10]} | {record["event_date"][:10] for record in run.records[MONITOR_EVENTS]}
        assert read == sum(1 for event in events_of(emulator) if event["event_date"][:10] in days)
