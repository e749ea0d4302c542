"""`shard: "i/N"`: N runs together read every account once (the records and bookmarks of one
unsharded run), each shard's STATE holds only its accounts, Telnyx is read by shard 1 only; and
`tap-events-reshard` moves bookmarks to a new number of shards without loss or re-reading."""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_TELNYX_API_KEY
from tap_events.shards import shard_of
from tests.common import MONITOR_EVENTS, TELNYX_AUDIT_EVENTS, TWILIO_STREAMS
from tests.subaccount_helpers import PARENT_SID, add_subaccounts, bookmarks_over, parent_config, small_sizes
from tests.tap_runner import TapRun, run_tap_process

STREAMS = (*TWILIO_STREAMS, TELNYX_AUDIT_EVENTS)
KEY = {stream: "sid" for stream in TWILIO_STREAMS} | {TELNYX_AUDIT_EVENTS: "id"}


@pytest.fixture
def emulator() -> t.Iterator[Emulator]:
    with Emulator(**small_sizes()) as running:
        add_subaccounts(running, ["active"] * 6)
        yield running


def config(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    return parent_config(emulator, telnyx_api_key=DEFAULT_TELNYX_API_KEY, **overrides)


def run_shards(emulator: Emulator, count: int, states: list[dict] | None = None) -> list[TapRun]:
    runs = []
    for index in range(1, count + 1):
        state = states[index - 1] if states else None
        run = run_tap_process(config(emulator, shard=f"{index}/{count}"), state=state)
        assert run.returncode == 0, run.stderr
        runs.append(run)
    return runs


def records(*runs: TapRun) -> collections.Counter[tuple[str, str]]:
    """(stream, primary key) -> how many times the runs wrote it."""
    return collections.Counter(
        (stream, str(record[KEY[stream]])) for run in runs for stream in STREAMS for record in run.records[stream]
    )


def accounts_in(state: dict[str, t.Any]) -> set[str]:
    return {p["context"]["account_sid"] for s in state.get("bookmarks", {}).values() for p in s.get("partitions", [])}


def test_shards_together_read_what_one_run_reads(emulator):
    whole = run_tap_process(config(emulator))
    assert whole.returncode == 0, whole.stderr

    shards = run_shards(emulator, 3)

    assert records(*shards) == records(whole)
    assert bookmarks_over(run.final_state for run in shards) == bookmarks_over([whole.final_state])
    everyone = accounts_in(whole.final_state)
    assert len(everyone) == 7
    for index, run in enumerate(shards, start=1):
        assert accounts_in(run.final_state) == {sid for sid in everyone if shard_of(sid, 3) == index}
        assert (TELNYX_AUDIT_EVENTS in run.final_state["bookmarks"]) == (index == 1)
    assert all(accounts_in(run.final_state) for run in shards), "every shard has accounts (choose SIDs so)"


def test_a_shard_without_a_twilio_account_reads_only_telnyx_or_nothing(emulator):
    count = 64  # more shards than accounts: some are empty
    empty = next(i for i in range(2, count + 1) if all(shard_of(sid, count) != i for sid in emulator.twilio_accounts))

    run = run_tap_process(config(emulator, shard=f"{empty}/{count}"))

    assert run.returncode == 0, run.stderr
    assert records(run) == collections.Counter()
    assert emulator.seen and all("/2010-04-01/Accounts" in seen.url for seen in emulator.seen)


def test_the_shard_of_an_account_never_changes():
    # Pinned: a change of the hash would move every account to another shard and its bookmarks with it.
    assert [shard_of(PARENT_SID, n) for n in (1, 2, 3, 16)] == [1, 1, 2, 11]
    assert shard_of(PARENT_SID.lower(), 16) == shard_of(PARENT_SID, 16)


def reshard(states: list[dict[str, t.Any]], count: int, directory: Path) -> list[dict[str, t.Any]]:
    """Through the command, with states as `meltano state get` prints them."""
    paths = []
    directory.mkdir(exist_ok=True)
    for number, state in enumerate(states, start=1):
        path = directory / f"old-{number}.json"
        path.write_text(json.dumps({"singer_state": state}))
        paths.append(str(path))
    command = [str(Path(sys.executable).parent / "tap-events-reshard"), "--shards", str(count)]
    result = subprocess.run(
        [*command, "--out-dir", str(directory / "new"), *paths], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [
        json.loads((directory / "new" / f"shard-{i}-of-{count}.json").read_text())["singer_state"]
        for i in range(1, count + 1)
    ]


@pytest.mark.parametrize(("before", "after"), [(2, 3), (3, 1)])
def test_resharding_moves_bookmarks_without_loss_or_rereading(emulator, tmp_path, before, after):
    first = run_shards(emulator, before)
    first_states = [run.final_state for run in first]
    # New records in every account after the first round.
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    added = {
        (MONITOR_EVENTS, e["sid"])
        for sid in emulator.twilio_accounts
        for e in emulator.monitor.add_events([when], account_sid=sid)
    }
    added |= {(TELNYX_AUDIT_EVENTS, e["id"]) for e in emulator.telnyx.add_events([when])}

    new_states = reshard(first_states, after, tmp_path)
    second = run_shards(emulator, after, new_states)
    # What one unsharded run resumed from every bookmark of the first round reads.
    merged = reshard(first_states, 1, tmp_path / "merged")[0]
    reference = run_tap_process(config(emulator), state=merged)
    assert reference.returncode == 0, reference.stderr

    assert bookmarks_over(new_states) == bookmarks_over(first_states), "every bookmark moved, none lost or doubled"
    for index, state in enumerate(new_states, start=1):
        assert all(shard_of(sid, after) == index for sid in accounts_in(state))
    assert records(*second) == records(reference)
    assert added <= set(records(*second)), "nothing new lost"
    resumed = sum(records(*second).values())
    assert resumed < sum(records(*first).values()) / 2, "the second round resumed from the bookmarks"
    assert bookmarks_over(run.final_state for run in second) == bookmarks_over([reference.final_state])
