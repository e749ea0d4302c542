"""Fleet scale (issue #24): many sparse partitions, where requests, not records, set the cost.

    python -m benchmarks.fleet                        # 100 and 1,000 workspaces, 150 ms per answer
    python -m benchmarks.fleet --workspaces 1000 --latency-ms 150
    python -m benchmarks.fleet --workspaces 100 --tap-source /tmp/before   # another copy of tap_events
    python -m benchmarks.fleet --workspaces 40 --environments 12         # the issue's measured scenario
    python -m benchmarks.fleet --workspaces 40 --events 3000             # busy workspaces, read as windows

One Twilio account holding N TaskRouter workspaces of about 25 events each over 20 days (sparse
partitions) and no Monitor Events or Alerts (a healthy account), read with every stream of the
scenario selected (workspaces, their events, Monitor Events, Alerts) and the default settings:
a first run (30 days back), then a few new events in every workspace, then an incremental run
from the first run's STATE. For each run it prints the requests per partition, the wall time
against its floor (the requests at `max_concurrent_requests` in flight, each one answer's
latency), the STATE bytes against the RECORD bytes, and the tap's peak RSS, with the issue's
targets as verdicts: 1-2 requests per sparse partition and 1 per empty one on the incremental
run, wall time within 1.5x the floor (target 3), STATE bytes at most RECORD bytes (target 4),
peak RSS flat from 100 to 1,000 partitions (target 5).

The emulator runs in its own process (`--serve`), so its CPU is not the tap's; the tap's peak RSS
is its own (`wait4`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

from benchmarks.processes import PYTHON, ROOT, child_env, load_average, read_line, tap_command
from emulator.http import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

#: The streams the scenario selects (and with `--environments`, `SERVERLESS_STREAMS`).
STREAMS = ("twilio_taskrouter_workspaces", "twilio_taskrouter_events", "twilio_monitor_events", "twilio_monitor_alerts")
SERVERLESS_STREAMS = ("twilio_serverless_services", "twilio_serverless_environments", "twilio_serverless_logs")
#: Serverless Logs requests per second per account (Twilio's limit, which the tap keeps).
LOGS_PER_SECOND = 5
#: New events per workspace between the two runs.
NEW_EVENTS = 2
#: The tap's default `page_size`: a workspace of more events than this is busy (read as windows).
PAGE_SIZE = 1000
#: The tap's default `max_concurrent_requests`: the floor's requests in flight.
IN_FLIGHT = 8


# ---- the emulator's process ----------------------------------------------------------------


def serve(workspaces: int, environments: int, latency_ms: float, events: int) -> None:
    """The scenario's emulator: prints `{"base_url"}`, then answers `stats` (requests per kind
    of path since the last `stats`) and `add` (new events in every workspace and environment) on stdin."""
    import random

    from emulator import Emulator

    emulator = Emulator(
        monitor_events=0,
        monitor_alerts=0,
        taskrouter_workspaces=workspaces,
        taskrouter_events=events,
        taskrouter_days=20,
        serverless_services=0,
    )
    rng = random.Random(7)
    logs = emulator.serverless
    quiet: list[tuple[str, str]] = []
    for index in range(environments):  # one service each, about 20 logs over 20 days
        created = emulator.now - dt.timedelta(days=90)
        service = logs.add_service(DEFAULT_ACCOUNT_SID, f"service-{index}", created=created)
        environment = logs.add_environment(DEFAULT_ACCOUNT_SID, service["sid"], "prod", created=created)
        moments = [emulator.now - dt.timedelta(seconds=rng.randrange(60, 20 * 86_400)) for _ in range(20)]
        logs.add_logs(service["sid"], environment["sid"], moments)
        quiet.append((service["sid"], environment["sid"]))
    emulator.latency = latency_ms / 1000.0
    emulator.start()
    print(json.dumps({"base_url": emulator.base_url}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            kinds = collections.Counter(_kind(seen.url) for seen in emulator.seen)
            emulator.seen.clear()
            print(json.dumps({"requests": kinds}), flush=True)
        elif command == "add":
            now = emulator.clock()
            for workspace in emulator.taskrouter.workspaces[DEFAULT_ACCOUNT_SID]:
                moments = [now - dt.timedelta(seconds=30 * (n + 1)) for n in range(NEW_EVENTS)]
                emulator.taskrouter.add_events(workspace["sid"], moments)
            for service_sid, environment_sid in quiet:
                logs.add_logs(service_sid, environment_sid, [now - dt.timedelta(seconds=30)] * NEW_EVENTS)
            print(json.dumps({"added": NEW_EVENTS}), flush=True)
    emulator.stop()


def _kind(url: str) -> str:
    path = url.split("?", 1)[0]
    if path.endswith("/Events") and "/Workspaces/" in path:
        return "workspace_events"
    return path.rsplit("/", 1)[-1]  # Workspaces, Events (Monitor), Alerts


# ---- the runner ----------------------------------------------------------------------------


class Emulated:
    """The emulator's process, asked for its counts between runs."""

    def __init__(self, workspaces: int, environments: int, latency_ms: float, events: int) -> None:
        command = [PYTHON, "-m", "benchmarks.fleet", "--serve", str(workspaces), "--latency-ms", str(latency_ms)]
        command += ["--environments", str(environments), "--events", str(events)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        line = read_line(self.process, 600)
        if not line:
            self.stop()
            sys.exit("the emulator did not start")
        self.base_url = json.loads(line)["base_url"]

    def ask(self, command: str) -> dict[str, t.Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{command}\n".encode())
        self.process.stdin.flush()
        return t.cast("dict[str, t.Any]", json.loads(self.process.stdout.readline()))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class TapRun(t.NamedTuple):
    seconds: float
    peak_rss_mb: float
    record_bytes: int
    state_bytes: int
    state_messages: int
    records: int
    final_state: dict[str, t.Any]


def run_tap(
    directory: Path, config: dict[str, t.Any], state: dict[str, t.Any] | None, timeout: float, source: Path | None
) -> TapRun:
    """One run of the tap, its output counted by message type, its peak RSS from `wait4`."""
    (directory / "config.json").write_text(json.dumps(config))
    command = [*tap_command(source), "--config", str(directory / "config.json")]
    command += ["--catalog", str(directory / "catalog.json")]
    if state is not None:
        (directory / "state.json").write_text(json.dumps(state))
        command += ["--state", str(directory / "state.json")]
    sizes: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    last_state: dict[str, t.Any] = state or {}
    with open(directory / "stderr.log", "wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        for line in process.stdout:
            message = json.loads(line)
            kind = message["type"]
            sizes[kind] += len(line)
            counts[kind] += 1
            if kind == "STATE":
                last_state = message["value"]
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        timer.cancel()
    if status != 0:
        tail = (directory / "stderr.log").read_text(errors="replace").splitlines()[-15:]
        sys.exit("the tap failed:\n" + "\n".join(tail))
    return TapRun(
        seconds,
        usage.ru_maxrss / 1024,
        sizes["RECORD"],
        sizes["STATE"],
        counts["STATE"],
        counts["RECORD"],
        last_state,
    )


def catalog(directory: Path, config: dict[str, t.Any], streams: tuple[str, ...]) -> None:
    """The tap's discovered catalog with the scenario's streams selected, in `catalog.json`."""
    (directory / "config.json").write_text(json.dumps(config))
    discovered = subprocess.run(
        [PYTHON, "-m", "tap_events", "--config", str(directory / "config.json"), "--discover"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        check=True,
    )
    found = json.loads(discovered.stdout)
    for entry in found["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    (directory / "catalog.json").write_text(json.dumps(found))


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def measure(
    workspaces: int, environments: int, latency_ms: float, timeout: float, source: Path | None, events: int = 25
) -> dict[str, t.Any]:
    """Both runs over the sparse workspaces and environments: their figures, printed as they come."""
    emulator = Emulated(workspaces, environments, latency_ms, events)
    figures: dict[str, t.Any] = {"workspaces": workspaces, "environments": environments, "events": events}
    try:
        with tempfile.TemporaryDirectory() as name:
            directory = Path(name)
            config = {
                "twilio_account_sid": DEFAULT_ACCOUNT_SID,
                "twilio_auth_token": DEFAULT_AUTH_TOKEN,
                **{f"twilio_{api}_base_url": emulator.base_url for api in ("monitor", "taskrouter", "serverless")},
            }
            catalog(directory, config, STREAMS + (SERVERLESS_STREAMS if environments else ()))
            emulator.ask("stats")
            state: dict[str, t.Any] | None = None
            for label in ("first", "incremental"):
                if label == "incremental":
                    emulator.ask("add")
                    emulator.ask("stats")
                run = run_tap(directory, config, state, timeout, source)
                requests = emulator.ask("stats")["requests"]
                state = run.final_state
                sparse = events < PAGE_SIZE
                figures[label] = report(label, workspaces + environments, latency_ms, run, requests, sparse=sparse)
    finally:
        emulator.stop()
    return figures


def report(
    label: str, partitions: int, latency_ms: float, run: TapRun, requests: dict[str, int], *, sparse: bool = True
) -> dict[str, t.Any]:
    total = sum(requests.values())
    logs = requests.get("Logs", 0)
    per_partition = (requests.get("workspace_events", 0) + logs) / partitions
    # As issue #24 counts it: the requests at 8 in flight, the Logs' at 5 per second.
    floor = (total - logs) / IN_FLIGHT * latency_ms / 1000 + logs / LOGS_PER_SECOND
    empty = max(requests.get("Events", 0), requests.get("Alerts", 0))
    print(f"  {label} run, {partitions} {'sparse' if sparse else 'busy'} partitions:")
    print(f"    requests: {total} ({dict(requests)}); per partition {per_partition:.2f}, per empty stream {empty}")
    if sparse:
        print(f"      target 1 (a sparse partition in 1-2 requests): {verdict(per_partition <= 2)}")
    if label == "incremental":
        print(f"      target 2 (an empty partition in 1 request per run): {verdict(empty <= 1)}")
    ratio = run.seconds / floor if floor else float("inf")
    print(f"    wall {run.seconds:.1f} s, floor {floor:.1f} s ({IN_FLIGHT} in flight, Logs 5/s): {ratio:.1f}x")
    print(f"      target 3 (within 1.5x the floor): {verdict(ratio <= 1.5)}")
    print(
        f"    STATE {run.state_bytes:,} bytes in {run.state_messages} messages, RECORD {run.record_bytes:,} bytes "
        f"({run.records} records)"
    )
    print(f"      target 4 (STATE bytes <= RECORD bytes): {verdict(run.state_bytes <= run.record_bytes)}")
    print(f"    peak RSS {run.peak_rss_mb:.0f} MB", flush=True)
    return {
        "requests": total,
        "requests_by_path": dict(requests),
        "requests_per_partition": round(per_partition, 2),
        "seconds": round(run.seconds, 2),
        "floor_seconds": round(floor, 2),
        "state_bytes": run.state_bytes,
        "state_messages": run.state_messages,
        "record_bytes": run.record_bytes,
        "records": run.records,
        "peak_rss_mb": round(run.peak_rss_mb, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspaces", type=int, nargs="+", default=[100, 1000], help="partitions (100 1000)")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="added to every answer (150)")
    parser.add_argument("--timeout", type=float, default=1800, help="limit for one run, seconds (1800)")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--tap-source", type=Path, help="the directory holding another copy of tap_events to measure (a 'before')"
    )
    parser.add_argument(
        "--environments", type=int, default=0, help="also N Serverless environments of about 20 logs each (0)"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=25,
        help="events per workspace over 20 days (25: sparse; above a page, 1,000, each workspace is busy)",
    )
    parser.add_argument("--serve", type=int, metavar="WORKSPACES", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.environments, args.latency_ms, args.events)
        return
    print(
        f"fleet benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()}, load {load_average()}, "
        f"{args.latency_ms:g} ms per answer"
    )
    results = [
        measure(count, args.environments, args.latency_ms, args.timeout, args.tap_source, args.events)
        for count in args.workspaces
    ]
    if len(results) > 1:
        low, high = results[0], results[-1]
        for label in ("first", "incremental"):
            growth = high[label]["peak_rss_mb"] / max(low[label]["peak_rss_mb"], 1.0)
            print(
                f"  target 5 (peak RSS flat), {label} run: {low[label]['peak_rss_mb']:.0f} MB at "
                f"{low['workspaces']}, {high[label]['peak_rss_mb']:.0f} MB at {high['workspaces']} "
                f"({growth:.2f}x): {verdict(growth <= 1.25)}"
            )
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
