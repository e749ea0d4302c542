"""BATCH mode: a run killed with kill -9 part-way through a batch, resumed from its last STATE, loses
nothing; a SIGTERM part-way writes no STATE ahead of the batches."""

from __future__ import annotations

import signal
import typing as t

from tests.batch_helpers import batch_config, batched, claims_ahead_of_batches
from tests.common import MONITOR_EVENTS, TELNYX_AUDIT_EVENTS, twilio_config
from tests.tap_runner import TapRun, catalog_selecting, run_tap_and_kill, run_tap_process
from tests.telnyx_helpers import telnyx_config, telnyx_emulator

BATCH_SIZE = 37

if t.TYPE_CHECKING:
    from pathlib import Path


def part_way_through_a_batch(stream: str) -> t.Callable[[list[dict]], bool]:
    """At the first STATE after three batches, which a target has committed, while the tap fills
    its next batch."""

    def condition(messages: list[dict]) -> bool:
        batches = sum(1 for m in messages if m["type"] == "BATCH" and m["stream"] == stream)
        return batches >= 3 and messages[-1]["type"] == "STATE"

    return condition


def kill_and_resume(config: dict[str, t.Any], stream: str, catalog: dict | None = None) -> tuple[TapRun, TapRun]:
    """Killed part-way through a batch, then resumed from the last STATE it wrote."""
    killed = run_tap_and_kill(config, catalog=catalog, kill_when=part_way_through_a_batch(stream))
    resumed = run_tap_process(config, state=killed.final_state, catalog=catalog)
    assert resumed.returncode == 0, resumed.stderr
    return killed, resumed


def assert_nothing_lost(killed: TapRun, resumed: TapRun, stream: str, key: str, expected: set[str]) -> None:
    first = {record[key] for record in batched(killed, stream)}
    second = {record[key] for record in batched(resumed, stream)}
    assert first, "the first run announced batches before it was killed"
    assert first != expected, "the first run must have been cut short"
    assert first | second == expected
    assert len(second) < len(expected), "the resume starts where the last STATE left off"


def test_monitor_events_killed_in_a_batch_resume_without_loss(emulator, tmp_path: Path) -> None:
    stream = MONITOR_EVENTS
    config = twilio_config(emulator, page_size=5, lookback_window_minutes=0)
    catalog = catalog_selecting(config, [stream])
    expected = {record["sid"] for record in run_tap_process(config, catalog=catalog).records[stream]}
    emulator.latency = 0.02

    killed, resumed = kill_and_resume({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, stream, catalog)

    assert_nothing_lost(killed, resumed, stream, "sid", expected)


def test_telnyx_audit_events_killed_in_a_batch_resume_without_loss(tmp_path: Path) -> None:
    stream = TELNYX_AUDIT_EVENTS
    with telnyx_emulator() as emulator:
        config = telnyx_config(emulator, page_size=5, lookback_window_minutes=0)
        expected = {record["id"] for record in run_tap_process(config).records[stream]}
        emulator.latency = 0.02

        killed, resumed = kill_and_resume({**config, "batch_config": batch_config(tmp_path, BATCH_SIZE)}, stream)

        assert_nothing_lost(killed, resumed, stream, "id", expected)


def test_a_sigterm_part_way_through_a_batch_writes_no_state_ahead_of_the_batches(emulator, tmp_path: Path) -> None:
    stream = MONITOR_EVENTS
    # One window at a time and batches of 100 records: ten pages after a batch, windows are whole
    # whose records are in no announced batch yet.
    config = twilio_config(emulator, page_size=5, lookback_window_minutes=0, max_concurrent_requests=1)
    catalog = catalog_selecting(config, [stream])
    every = run_tap_process(config, catalog=catalog).records[stream]
    emulator.latency = 0.02
    served: list[int] = []

    def ten_more_pages() -> bool:
        served.append(len(emulator.seen))
        return served[-1] >= served[0] + 10

    stopped = run_tap_and_kill(
        {**config, "batch_config": batch_config(tmp_path, 100)},
        catalog=catalog,
        kill_when=part_way_through_a_batch(stream),
        and_then=ten_more_pages,
        signal_number=signal.SIGTERM,
    )

    assert {r["sid"] for r in batched(stopped, stream)} != {r["sid"] for r in every}, "stopped part-way"
    for position, missing in claims_ahead_of_batches(stopped, stream, every, "sid", "event_date"):
        assert not missing, f"STATE at message {position} claims {len(missing)} record(s) of no BATCH before it"
