"""The closing report of a Telnyx run (oldest first, counted per page): its records are the RECORD
messages, its requests what the API saw, and its bookmark the last STATE's, with faults injected."""

from __future__ import annotations

import pytest

from tests.common import TELNYX_AUDIT_EVENTS
from tests.tap_runner import run_tap
from tests.telnyx_helpers import PATH, telnyx_config

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def test_the_report_counts_pages_written_and_retries(emulator):
    emulator.faults.add(PATH, status=500, times=1)
    emulator.faults.add(PATH, status=429, code="10011", retry_after="1", times=1)
    emulator.faults.add(PATH, kind="not_json", times=1)

    run = run_tap(telnyx_config(emulator, page_size=7))

    assert run.returncode == 0, run.stderr
    audit = run.report_of(TELNYX_AUDIT_EVENTS, "the API key's organisation")
    assert audit["records"] == len(run.records[TELNYX_AUDIT_EVENTS])
    assert audit["requests"] == len(emulator.seen)
    assert audit["retries"] == {"5xx": 1, "429": 1, "timeout": 0, "truncated_body": 1, "connection": 0}
    assert audit["bookmark"] == run.bookmark(TELNYX_AUDIT_EVENTS)
    assert audit["bookmark"] is not None
