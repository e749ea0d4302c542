"""The emulator in its own process, so that its CPU is not counted against the measured one.

    python -m benchmarks.emulator_process --events 200000 --days 29 --latency-ms 0
    python -m benchmarks.emulator_process --scenario taskrouter-busy-day --events 40000 --latency-ms 200
    python -m benchmarks.emulator_process --events 60000 --latency-ms 200 --twilio-concurrency-limit 3

Scenarios (`--scenario`):

- `monitor-events` (default): `Emulator(monitor_events=N, monitor_days=D)`, events spread over
  the last D days (with small default data sets for the other APIs).
- `taskrouter-busy-day`: ONE TaskRouter workspace holding N events spread over one UTC day,
  yesterday (no other workspace): a one-day backfill reads them all.
- `alerts-busy-day`: N Monitor Alerts spread over yesterday, buffered as the emulator plays them
  (`date_generated` up to 5 minutes before `date_created`); no Monitor Events.

Sets the per-request latency and the Twilio concurrency limit per account, listens on a free
127.0.0.1 port and prints one JSON line: `{"base_url", "pid", "scenario", "stream", "events",
"now", "day", "setup_seconds"}` (`day`: the busy day's midnight, UTC, or null). Then it answers
`stats` on its standard input with one JSON line: the answers it sent by HTTP status, the Twilio
requests refused for the concurrency limit, and the most Twilio requests in flight at once. It stops
on SIGTERM or when its standard input closes (so it never outlives the runner that started it).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sys
import threading
import time
import typing as t

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from emulator.twilio import moments_between

#: Scenario -> the stream that reads its records.
SCENARIOS = {
    "monitor-events": "twilio_monitor_events",
    "taskrouter-busy-day": "twilio_taskrouter_events",
    "alerts-busy-day": "twilio_monitor_alerts",
}


def yesterday(emulator: Emulator) -> dt.datetime:
    """Midnight UTC of the day before the emulator's present."""
    today = emulator.now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=1)


def build(scenario: str, events: int, days: int, seed: int) -> tuple[Emulator, int, dt.datetime | None]:
    """The emulator holding the scenario's records: (emulator, records, busy day or None)."""
    if scenario == "monitor-events":
        emulator = Emulator(
            seed=seed,
            monitor_events=events,
            monitor_alerts=0,
            monitor_days=days,
            # Keep every generated event visible, whatever --days says (13-month backfills).
            event_retention_days=max(30, days + 1),
        )
        return emulator, len(emulator.monitor.events[DEFAULT_ACCOUNT_SID]), None
    emulator = Emulator(seed=seed, monitor_events=0, monitor_alerts=0, taskrouter_workspaces=0)
    day = yesterday(emulator)
    moments = moments_between(random.Random(seed), day, day + dt.timedelta(days=1), events)
    if scenario == "taskrouter-busy-day":
        workspace = emulator.taskrouter.add_workspace(events=0, friendly_name="Busy day")
        emulator.taskrouter.add_events(workspace["sid"], moments)
        return emulator, len(emulator.taskrouter.events_of(workspace["sid"])), day
    emulator.monitor.add_alerts(moments)
    return emulator, len(emulator.monitor.alerts[DEFAULT_ACCOUNT_SID]), day


def stats(emulator: Emulator) -> dict[str, t.Any]:
    """What the emulator answered so far (the runner takes differences around a run)."""
    statuses = collections.Counter(str(seen.status) for seen in list(emulator.seen))
    return {
        "answers": dict(statuses),
        "twilio_concurrency_refusals": emulator.twilio_concurrency_refusals(DEFAULT_ACCOUNT_SID),
        "twilio_peak_in_flight": emulator.twilio_peak_in_flight(DEFAULT_ACCOUNT_SID),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=SCENARIOS, default="monitor-events")
    parser.add_argument("--events", type=int, default=200_000, help="records of the scenario's stream")
    parser.add_argument("--days", type=int, default=29, help="monitor-events: days the events are spread over")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--twilio-concurrency-limit", type=int, help="Twilio requests in flight per account")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    emulator, records, day = build(args.scenario, args.events, args.days, args.seed)
    emulator.latency = args.latency_ms / 1000.0
    emulator.twilio_concurrency_limit = args.twilio_concurrency_limit
    emulator.start()
    ready = {
        "base_url": emulator.base_url,
        "pid": os.getpid(),
        "scenario": args.scenario,
        "stream": SCENARIOS[args.scenario],
        "events": records,
        "now": emulator.now.isoformat(),
        "day": day.isoformat() if day else None,
        "setup_seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(ready), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def answer_stdin() -> None:
        for line in sys.stdin:  # ends at EOF: the runner exited or closed the pipe
            if line.strip() == "stats":
                print(json.dumps(stats(emulator)), flush=True)
        stop.set()

    threading.Thread(target=answer_stdin, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
