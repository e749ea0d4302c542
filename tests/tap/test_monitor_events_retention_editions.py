"""Monitor Events are kept 30 days or 13 months depending on the edition, and the docs do not say
whether an older StartDate is trimmed or refused: the tap loads everything kept in every case."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import MONITOR_EVENTS
from tests.monitor_helpers import events_of, monitor_api
from tests.tap_runner import catalog_selecting, partitioned_state, run_tap


def add_event(emulator: Emulator, when: dt.datetime) -> str:
    [event] = monitor_api(emulator).add_events([when])
    return str(event["sid"])


def run_from(emulator: Emulator, days: int):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    config = emulator.tap_config(telnyx_api_key=None, start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return run_tap(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))


@pytest.mark.parametrize("answer", ["trim", "refuse"])
def test_an_edition_keeping_13_months_gives_events_older_than_30_days(answer):
    with Emulator(event_retention_days=396) as emulator:
        monitor_api(emulator).retention_answer = answer
        old = add_event(emulator, emulator.now - dt.timedelta(days=60))

        run = run_from(emulator, days=90)

    assert run.returncode == 0, run.stderr
    loaded = {record["sid"] for record in run.records[MONITOR_EVENTS]}
    assert old in loaded
    assert loaded == {event["sid"] for event in events_of(emulator)}


def test_a_30_day_edition_refusing_older_days_still_gives_the_part_of_a_day_it_keeps(emulator):
    emulator.monitor.retention_answer = "refuse"
    # Most likely on the day whose midnight is older than 30 days: that day's query is refused,
    # and asked again from inside the 30 days.
    inside = add_event(emulator, emulator.now - dt.timedelta(days=30) + dt.timedelta(minutes=6))

    run = run_from(emulator, days=90)

    assert run.returncode == 0, run.stderr
    assert inside in {record["sid"] for record in run.records[MONITOR_EVENTS]}
    assert {record["sid"] for record in run.records[MONITOR_EVENTS]} == {event["sid"] for event in events_of(emulator)}
    assert any(seen.status == 400 for seen in emulator.seen), "the days older than 30 days were refused"


def test_a_bookmark_older_than_30_days_resumes_from_the_bookmark_on_an_edition_keeping_13_months():
    # The default 30 days of history bound a first run only: a resumed run loses nothing kept.
    with Emulator(event_retention_days=396) as emulator:
        missed = add_event(emulator, emulator.now - dt.timedelta(days=35))
        bookmark = (emulator.now - dt.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
        config = emulator.tap_config(telnyx_api_key=None)
        state = partitioned_state(MONITOR_EVENTS, "event_date", {DEFAULT_ACCOUNT_SID: bookmark})

        run = run_tap(config, state=state, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    assert missed in {record["sid"] for record in run.records[MONITOR_EVENTS]}
