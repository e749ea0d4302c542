"""SIGTERM arriving while a page's RECORD lines are being written (a blocked write to a slow
target) waits for the write: the tap's STATE then follows whole lines, instead of landing inside
one or failing on stdout's buffer (a "reentrant call", and no STATE), and the run still exits
128 + the signal."""

from __future__ import annotations

import json
import signal

import pytest

from tap_events.output import EventsWriter, RecordLines
from tap_events.tap import TapEvents
from tests.common import MONITOR_EVENTS, twilio_config
from tests.signal_helpers import stdout_interrupted_by

PAGE = [{"sid": f"AE{n}", "event_date": "2026-11-29T05:31:20Z", "text": "x" * 100} for n in range(20)]


@pytest.fixture
def signal_handlers_restored():
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("signal_handlers_restored")
def test_sigterm_mid_page_writes_state_after_the_whole_page_and_exits_non_zero(emulator, monkeypatch):
    target = stdout_interrupted_by(monkeypatch, signal.SIGTERM)
    tap = TapEvents(config=twilio_config(emulator))  # installs its SIGTERM handler
    assert isinstance(tap.message_writer, EventsWriter)
    lines = RecordLines(tap.message_writer, MONITOR_EVENTS, frozenset(PAGE[0]))

    with pytest.raises(SystemExit) as stopped:
        lines.write(PAGE, None)

    assert stopped.value.code == 128 + signal.SIGTERM
    messages = [json.loads(line) for line in bytes(target.written).splitlines()]
    assert [message["type"] for message in messages] == ["RECORD"] * len(PAGE) + ["STATE"]
    assert [message["record"] for message in messages[:-1]] == PAGE
