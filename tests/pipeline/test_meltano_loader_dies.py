"""`meltano run tap-events target-jsonl` whose loader dies mid-stream (killed): the run fails, the
tap stops without a traceback, and a second `meltano run` (from the state Meltano kept, if any)
loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.common import MONITOR_EVENTS, parse
from tests.meltano_helpers import (
    MELTANO,
    ROOT,
    install_plugins,
    meltano,
    meltano_env,
    one_meltano_run_at_a_time,
    small_emulator,
    start_date,
)


def _descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _loaded(home: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in home.glob(f"{MONITOR_EVENTS}-*.jsonl")
        for line in path.read_text().split("\n")
        if line
    ]


def test_a_rerun_after_the_loader_died_loses_nothing(tmp_path: Path) -> None:
    install_plugins()
    with small_emulator(monitor_events=3000) as emulator:
        emulator.latency = 1.0  # the tap is still reading when the loader dies
        since = start_date()
        env = meltano_env(
            emulator, tmp_path, since, TAP_EVENTS__SELECT=json.dumps([f"{MONITOR_EVENTS}.*"]), TAP_EVENTS_PAGE_SIZE="50"
        )
        with one_meltano_run_at_a_time():
            first = subprocess.Popen(
                [str(MELTANO), "run", "tap-events", "target-jsonl"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            killed = None
            deadline = time.monotonic() + 240
            while killed is None and first.poll() is None and time.monotonic() < deadline:
                if len(emulator.seen) >= 4:  # the tap is reading (the loader writes its file late)
                    loaders = [pid for pid in _descendants(first.pid) if "target-jsonl" in _command(pid)]
                    if loaders:
                        killed = loaders[0]
                        os.kill(killed, signal.SIGKILL)
                time.sleep(0.05)
            output, _ = first.communicate(timeout=300)
        assert killed is not None, "the loader finished before it could be killed: make the run slower"
        assert first.returncode != 0
        tap_lines = [line for line in output.splitlines() if " tap-events " in line]
        assert not [line for line in tap_lines if "Traceback" in line], output[-6000:]
        assert not [line for line in tap_lines if "Run report (succeeded)" in line], "Meltano stopped the tap"
        loaded_first = len(_loaded(tmp_path))

        meltano("run", "tap-events", "target-jsonl", env=env)

        loaded = {record["sid"] for record in _loaded(tmp_path)}
        expected = {
            event["sid"]
            for event in emulator.monitor.events[next(iter(emulator.monitor.events))]
            if parse(event["event_date"]) >= since
        }
        assert loaded_first < len(expected)
        assert loaded >= expected
