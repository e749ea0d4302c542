"""Run the emulator on its own: `python -m emulator --port 8765`, then point the tap at it."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading

from emulator.server import RETENTION_ANSWERS, Emulator


def telnyx_rate_limit(text: str) -> tuple[int, float]:
    """`100/60`: 100 requests per 60 seconds."""
    requests, _, seconds = text.partition("/")
    try:
        return int(requests), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected REQUESTS/SECONDS such as 100/60, not {text!r}") from None


def configured(argv: list[str] | None = None) -> tuple[Emulator, argparse.Namespace]:
    """The emulator the command line asks for, not started yet."""
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--monitor-events", type=int, default=600)
    parser.add_argument("--config-out", help="write tap settings pointing at the emulator to this file")
    parser.add_argument(
        "--retention-answer",
        choices=RETENTION_ANSWERS,
        help="how every API answers a query older than it keeps (default: each API's own)",
    )
    parser.add_argument(
        "--twilio-concurrency-limit",
        type=int,
        metavar="N",
        help="Twilio requests an account may have in flight; more answer 429, error 20429 (default: no limit)",
    )
    parser.add_argument(
        "--telnyx-rate-limit",
        type=telnyx_rate_limit,
        metavar="REQUESTS/SECONDS",
        help="Telnyx requests per API key in a window, e.g. 100/60, with x-ratelimit-* headers "
        "(default: no limit, no such headers)",
    )
    parser.add_argument(
        "--limits-send-retry-after",
        action="store_true",
        help="the 429s of both limits carry Retry-After (neither vendor says whether they do)",
    )
    args = parser.parse_args(argv)
    # With the audit scenarios, so that each detection of transform/ has something to find (the demo).
    emulator = Emulator(seed=args.seed, monitor_events=args.monitor_events, audit_scenarios=True)
    emulator.twilio_concurrency_limit = args.twilio_concurrency_limit
    emulator.telnyx_rate_limit = args.telnyx_rate_limit
    emulator.limits_send_retry_after = args.limits_send_retry_after
    if args.retention_answer:
        emulator.answer_old_queries(args.retention_answer)
    return emulator, args


def main() -> None:
    emulator, args = configured()
    emulator.start(args.port)
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
