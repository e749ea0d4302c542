"""The emulator's `clock_offset_seconds` runs its clock behind this machine's: its present (for the
data it makes and the retention it keeps) and the `Date` header of every answer."""

from __future__ import annotations

import datetime as dt
import email.utils

from emulator import Emulator
from tests.monitor_helpers import get_events

BEHIND = dt.timedelta(hours=1)


def test_the_date_header_and_the_present_run_behind_the_machine_clock():
    with Emulator(clock_offset_seconds=BEHIND.total_seconds()) as emulator:
        response = get_events(emulator, PageSize="1")

        machine = dt.datetime.now(dt.UTC)
        answered = email.utils.parsedate_to_datetime(response.headers["Date"])
        assert abs(machine - BEHIND - answered) < dt.timedelta(seconds=5)
        assert abs(machine - BEHIND - emulator.clock()) < dt.timedelta(seconds=5)
        newest = max(event["event_date"] for event in emulator.monitor.events[next(iter(emulator.monitor.events))])
        assert dt.datetime.fromisoformat(newest) <= machine - BEHIND
