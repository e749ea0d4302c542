"""The stream is sorted: STATE follows every page, and never claims a record not yet written."""

from __future__ import annotations

import re

import pytest

from tests.common import TELNYX_AUDIT_EVENTS, parse
from tests.tap_runner import run_tap
from tests.telnyx_helpers import bookmark, events, millis, telnyx_config

PAGE_SIZE = 10


pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def test_state_advances_page_by_page_and_never_ahead_of_the_records(emulator):
    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE))

    assert run.returncode == 0, run.stderr
    newest_written = None
    bookmarks = []
    for message in run.messages:
        if message["type"] == "RECORD":
            created = parse(message["record"]["created_at"])
            newest_written = max(newest_written or created, created)
        elif message["type"] == "STATE" and bookmark(message["value"]):
            value = parse(bookmark(message["value"]))
            assert newest_written is not None
            assert value <= newest_written
            bookmarks.append(value)
    assert bookmarks == sorted(bookmarks)
    # One STATE per page at least: 240 events in pages of 10 over four windows.
    assert len(set(bookmarks)) >= len(events(emulator)) // PAGE_SIZE


def test_final_bookmark_is_the_newest_created_at_in_milliseconds(emulator):
    run = run_tap(telnyx_config(emulator, page_size=PAGE_SIZE))

    assert run.returncode == 0, run.stderr
    newest = max(parse(event["created_at"]) for event in events(emulator))
    assert run.bookmark(TELNYX_AUDIT_EVENTS) == millis(newest)


def test_created_at_is_written_with_milliseconds_whatever_the_api_sent(emulator):
    run = run_tap(telnyx_config(emulator, page_size=250))

    assert run.returncode == 0, run.stderr
    sent = {event["id"]: event["created_at"] for event in events(emulator)}
    assert any("." not in value for value in sent.values()), "the API drops a zero fraction"
    for record in run.records[TELNYX_AUDIT_EVENTS]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["created_at"])
        assert parse(record["created_at"]) == parse(sent[record["id"]])
