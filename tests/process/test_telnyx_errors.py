"""Telnyx errors stop reading Telnyx with a message naming Telnyx, the status, code and title;
the run exits non-zero."""

from __future__ import annotations

import pytest

from tests.common import TELNYX_AUDIT_EVENTS
from tests.tap_runner import run_tap_process
from tests.telnyx_helpers import bookmark, telnyx_config

WRONG_KEY = "KEY0123-wrong-telnyx-key-secret"


pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def test_a_refused_api_key_is_named_without_echoing_it(emulator):
    run = run_tap_process(telnyx_config(emulator, telnyx_api_key=WRONG_KEY))

    assert run.returncode != 0
    message = next(line for line in run.stderr.splitlines() if "HTTP 401" in line)
    assert TELNYX_AUDIT_EVENTS in message
    assert "Telnyx" in message
    assert "API key was refused" in message
    assert "telnyx_api_key" in message
    assert "Telnyx error 10009: Authentication failed" in message
    assert WRONG_KEY not in run.stderr
    assert WRONG_KEY not in run.stdout
    urls = [seen.url for seen in emulator.seen]  # windows read ahead each ask once
    assert len(urls) == len(set(urls)), "a refused key is not retried"


def test_a_refused_request_names_the_telnyx_code_and_title(emulator):
    emulator.faults.add("/v2/audit_events", status=422, code="10015")

    run = run_tap_process(telnyx_config(emulator))

    assert run.returncode != 0
    message = next(line for line in run.stderr.splitlines() if "HTTP 422" in line)
    assert "telnyx_audit_events: request failed: GET http://127.0.0.1" in message
    assert "(Telnyx error 10015: Injected fault)" in message


def test_a_server_that_ignores_sort_asc_stops_the_run_before_state_runs_ahead(emulator):
    emulator.telnyx.honour_sort = False  # newest first whatever was asked

    # One page holds the whole range, so that the check meets the order whatever the time of day
    # (pages of a few records make the range day windows, and a day holding one record is in order).
    run = run_tap_process(telnyx_config(emulator))

    assert run.returncode != 0
    assert "although sort=asc was asked" in run.stderr
    # It stopped at the first record older than the one before it: one record, and no STATE
    # claims it, since its page was not read whole.
    assert len(run.records[TELNYX_AUDIT_EVENTS]) == 1
    assert [bookmark(state) for state in run.states] == [None] * len(run.states)
