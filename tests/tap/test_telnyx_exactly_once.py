"""One run emits every audit event in range exactly once, whatever shifts under its pages."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tests.common import TELNYX_AUDIT_EVENTS, parse
from tests.tap_runner import run_tap
from tests.telnyx_helpers import events, matching, pages_by_query, telnyx_config

PAGE_SIZE = 7


pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def _emitted(run) -> list[str]:
    return [record["id"] for record in run.records[TELNYX_AUDIT_EVENTS]]


def _an_instant_straddles_a_page_boundary(emulator) -> bool:
    for after, before, size in pages_by_query(emulator):
        answer = matching(emulator, after, before)
        for end in range(int(size), len(answer), int(size)):
            if answer[end - 1]["created_at"] == answer[end]["created_at"]:
                return True
    return False


def test_every_event_is_emitted_exactly_once(emulator):
    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE))

    assert run.returncode == 0, run.stderr
    emitted = _emitted(run)
    assert [i for i, n in Counter(emitted).items() if n > 1] == []
    assert set(emitted) == {event["id"] for event in events(emulator)}
    assert _an_instant_straddles_a_page_boundary(emulator), "the data must test shared instants"


def test_emitted_in_ascending_created_at_order(emulator):
    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE))

    assert run.returncode == 0, run.stderr
    created = [parse(record["created_at"]) for record in run.records[TELNYX_AUDIT_EVENTS]]
    assert created == sorted(created)


def test_a_late_event_that_shifts_the_pages_mid_run_causes_no_duplicate(emulator):
    original = {event["id"] for event in events(emulator)}
    # Appears after the third request, before the reader's position in the first window:
    # every later page of that window starts one record earlier than it did.
    oldest = parse(events(emulator)[0]["created_at"])
    [late] = emulator.telnyx.add_events([oldest], after_requests=3)

    # One request at a time, so that the third request is the first window's third page.
    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE, max_concurrent_requests=1))

    assert run.returncode == 0, run.stderr
    emitted = _emitted(run)
    assert [i for i, n in Counter(emitted).items() if n > 1] == []
    assert set(emitted) == original  # the late event is for the next run's lookback
    assert late["id"] not in emitted


def test_a_late_event_that_shifts_the_pages_while_windows_are_read_concurrently_causes_no_duplicate(emulator):
    original = {event["id"] for event in events(emulator)}
    oldest = parse(events(emulator)[0]["created_at"])
    emulator.telnyx.add_events([oldest], after_requests=3)  # the first window may be at any page by then

    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE, max_concurrent_requests=4))

    assert run.returncode == 0, run.stderr
    emitted = _emitted(run)
    assert [i for i, n in Counter(emitted).items() if n > 1] == []
    assert original <= set(emitted)


def test_an_event_created_during_the_run_is_left_for_the_next_run(emulator):
    original = {event["id"] for event in events(emulator)}
    [late] = emulator.telnyx.add_events([dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)], after_requests=3)

    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE))

    assert run.returncode == 0, run.stderr
    emitted = _emitted(run)
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == original
    assert late["id"] not in emitted


def test_exactly_once_when_the_server_treats_the_filters_as_inclusive(emulator):
    emulator.telnyx.filters_inclusive = True

    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE))

    assert run.returncode == 0, run.stderr
    emitted = _emitted(run)
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == {event["id"] for event in events(emulator)}
