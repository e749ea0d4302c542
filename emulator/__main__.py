"""Run the emulator on its own: `python -m emulator --port 8765`, then point the tap at it."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading

from emulator.server import RETENTION_ANSWERS, Emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--monitor-events", type=int, default=600)
    parser.add_argument("--config-out", help="write tap settings pointing at the emulator to this file")
    parser.add_argument(
        "--retention-answer",
        choices=RETENTION_ANSWERS,
        help="how every API answers a query older than it keeps (default: each API's own)",
    )
    args = parser.parse_args()
    # With the audit scenarios, so that each detection of transform/ has something to find (the demo).
    emulator = Emulator(seed=args.seed, monitor_events=args.monitor_events, audit_scenarios=True).start(args.port)
    if args.retention_answer:
        emulator.answer_old_queries(args.retention_answer)
    if args.config_out:
        with open(args.config_out, "w") as handle:
            json.dump(emulator.tap_config(), handle, indent=2)
    print(f"emulator listening on {emulator.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
