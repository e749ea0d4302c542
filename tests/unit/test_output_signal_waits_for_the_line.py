"""A signal handler that writes (SIGTERM: the SDK's last STATE) runs in the main thread between
two of its bytecodes, inside a blocked write of stdout's buffer too. `EventsWriter` makes it wait
for the write in progress: its line then follows whole lines, and the buffer is never entered
twice (a "reentrant call" RuntimeError, and no STATE)."""

from __future__ import annotations

import json
import signal
import typing as t

import pytest
from singer_sdk.singerlib.encoding.simple import StateMessage

from tap_events.output import EventsWriter, RecordLines
from tests.signal_helpers import stdout_interrupted_by

STREAM = "twilio_monitor_events"
PAGE = [{"sid": f"AE{n}", "event_date": "2026-11-29T05:31:20Z", "text": "x" * 100} for n in range(20)]


@pytest.fixture
def on_signal():
    """Installs a SIGUSR1 handler for the test, and puts the previous one back."""
    previous = signal.getsignal(signal.SIGUSR1)
    yield lambda handler: signal.signal(signal.SIGUSR1, handler)
    signal.signal(signal.SIGUSR1, previous)


def test_a_state_written_at_a_signal_follows_the_page_being_written(monkeypatch, on_signal):
    stdout = stdout_interrupted_by(monkeypatch, signal.SIGUSR1)
    writer = EventsWriter()
    handled = []

    def write_state(signum: int, frame: t.Any) -> None:
        if writer.defer_while_writing(lambda: write_state(signum, frame)):
            return
        handled.append(signum)
        writer.write_message(StateMessage(value={"bookmarks": {}}))

    on_signal(write_state)
    RecordLines(writer, STREAM, frozenset(PAGE[0])).write(PAGE, None)

    assert handled == [signal.SIGUSR1]
    lines = [json.loads(line) for line in bytes(stdout.written).splitlines()]
    assert [line["type"] for line in lines] == ["RECORD"] * len(PAGE) + ["STATE"]
    assert [line["record"] for line in lines[:-1]] == PAGE


def test_no_write_in_progress_means_no_wait():
    writer = EventsWriter()
    assert writer.defer_while_writing(lambda: None) is False
