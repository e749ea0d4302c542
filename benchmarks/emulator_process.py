"""The emulator in its own process, so that its CPU is not counted against the measured one.

    python -m benchmarks.emulator_process --events 200000 --days 29 --latency-ms 0

Builds `Emulator(monitor_events=N, monitor_days=D)` (with small default data sets for the other
APIs), sets its per-request latency, listens on a free 127.0.0.1 port and prints one JSON line:
`{"base_url": ..., "pid": ..., "events": ..., "now": ..., "setup_seconds": ...}`. It stops on
SIGTERM or when its standard input closes (so it never outlives the runner that started it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=29)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    emulator = Emulator(
        seed=args.seed,
        monitor_events=args.events,
        monitor_alerts=0,
        monitor_days=args.days,
        # Keep every generated event visible, whatever --days says (13-month backfills).
        event_retention_days=max(30, args.days + 1),
    )
    emulator.latency = args.latency_ms / 1000.0
    emulator.start()
    ready = {
        "base_url": emulator.base_url,
        "pid": os.getpid(),
        "events": len(emulator.monitor.events[DEFAULT_ACCOUNT_SID]),  # type: ignore[attr-defined]
        "now": emulator.now.isoformat(),
        "setup_seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(ready), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch_stdin() -> None:
        sys.stdin.read()  # returns at EOF: the runner exited or closed the pipe
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
