"""The four targets of issue #18, each with its own emulator process, its figure and its verdict.

    python -m benchmarks.run --targets                 # all four, 3 runs of each variant, medians
    python -m benchmarks.run --targets --quick         # without the 1,000,000-event memory run
    python -m benchmarks.run --targets --only 2,3 --runs 1 --json-out targets.json

1. Defaults, many windows: 60,000 Monitor Events over 29 days, 200 ms per answer: the tap with
   its defaults against `max_concurrent_requests: 1`; wall sequential / tap >= 4.
2. One busy day, 200 ms per answer, a one-day backfill (`start_date`/`end_date` around it): a
   TaskRouter workspace with 40,000 events (40 pages of 1,000), and 40,000 Monitor Alerts
   (which also cross the Alerts' 10,000-results cap of a query); same ratio, >= 4.
3. Adaptive concurrency: target 1's data with the emulator's Twilio concurrency limit at 3: the
   tap with defaults exits 0 having written every record once, at >= 0.75 of the ceiling, the wall
   time of 3 requests always in flight (pages x 200 ms / 3; pages counted by the emulator).
4. CPU-bound: 200,000 Monitor Events, no latency: tap / raw loop CPU seconds <= 1.3 and wall
   <= 1.3 (same invocation, medians of `--cpu-runs` interleaved rounds, 7); the tap's peak RSS
   < 150 MB at 200,000 and at 1,000,000 events, within 10% (`--quick` skips the 1,000,000 run,
   and the verdict says so).

Every run of targets 1 to 3 is read back here and must write each record exactly once (by sid)
and exit 0, or its target fails whatever its speed; target 4 checks that once per variant
before its timed runs (`--no-verify` skips it). Nothing asserts on time: this prints.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import typing as t
from collections.abc import Iterator
from pathlib import Path

from benchmarks.processes import (
    PYTHON,
    EmulatorProcess,
    Measurement,
    count_records,
    load_average,
    measure,
    selecting,
    tap_catalog,
    tap_command,
    tap_config,
)

LATENCY_MS = 200.0
PAGE_SIZE = 1000
SPEED_UP = 4.0
CONCURRENCY_LIMIT = 3
#: Share of the ceiling a run under the concurrency limit must reach (why: docs/performance.md).
CEILING_SHARE = 0.75
CPU_RATIO = 1.3
WALL_RATIO = 1.3
RSS_LIMIT_MB = 150.0
RSS_GROWTH = 0.10
#: The tap reading one request at a time: the reference of the latency-bound targets.
SEQUENTIAL = {"max_concurrent_requests": 1}


@dataclasses.dataclass
class Run:
    """One measured run, with what the emulator answered during it."""

    measurement: Measurement
    pages: int = 0
    refused: int = 0
    #: A run not read back (CPU-bound): whether the counted check of its command was right (None: not checked).
    checked: bool | None = None

    def exactly_once(self, expected: int) -> bool:
        m = self.measurement
        if m.records is None:
            return m.returncode == 0 and self.checked is not False
        return m.returncode == 0 and m.records == m.distinct == expected


@dataclasses.dataclass
class Verdict:
    target: str
    figure: str
    threshold: str
    status: str  # PASS, FAIL or SKIPPED
    figures: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    def line(self) -> str:
        return f"verdict {self.target}: {self.figure}; threshold {self.threshold}: {self.status}"


def pass_or_fail(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


class Targets:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.runs: int = args.runs
        self.timeout: float = args.timeout
        self.latency_ms: float = LATENCY_MS if args.latency_ms is None else args.latency_ms
        self.catalogs: dict[str, Path] = {}
        self.discovered: dict[str, t.Any] | None = None

    def size(self, count: int) -> int:
        return max(1, round(count * self.args.targets_scale))

    @contextlib.contextmanager
    def emulator(
        self, events: int, *, latency_ms: float, scenario: str = "monitor-events", limit: int | None = None
    ) -> Iterator[EmulatorProcess]:
        emulator = EmulatorProcess(
            events,
            29,
            latency_ms,
            timeout=120 + events / 2000,
            scenario=scenario,
            twilio_concurrency_limit=limit,
        )
        try:
            print(
                f"  emulator: {scenario}, {emulator.events:,} records, {latency_ms:g} ms per answer"
                + (f", Twilio concurrency limit {limit}" if limit else "")
                + f", built in {emulator.setup_seconds:.1f} s",
                flush=True,
            )
            yield emulator
        finally:
            emulator.stop()

    def file(self, name: str, content: dict[str, t.Any]) -> Path:
        path = self.work / name
        path.write_text(json.dumps(content))
        return path

    def catalog(self, stream: str, config: Path) -> Path:
        """The tap's catalog with only `stream` selected (discovered once: it sends no request)."""
        if self.discovered is None:
            self.discovered = tap_catalog(config, stream, self.work / "discover.stderr")
        if stream not in self.catalogs:
            self.catalogs[stream] = self.file(f"catalog-{stream}.json", selecting(self.discovered, stream))
        return self.catalogs[stream]

    def tap(self, name: str, config: dict[str, t.Any], stream: str) -> list[str]:
        config_path = self.file(f"config-{name}.json", config)
        return [*tap_command(None), "--config", str(config_path), "--catalog", str(self.catalog(stream, config_path))]

    # ---- runs ----------------------------------------------------------------------------

    def counted_runs(
        self, label: str, emulator: EmulatorProcess, commands: dict[str, list[str]]
    ) -> dict[str, list[Run]]:
        """`--runs` rounds of every command in turn, each read back and counted, and the pages and
        concurrency refusals the emulator answered during it."""
        runs: dict[str, list[Run]] = {variant: [] for variant in commands}
        for number in range(1, self.runs + 1):
            for variant, command in commands.items():
                before = emulator.stats()
                measurement = measure(
                    command,
                    stderr_path=self.work / f"{label}-{variant}-{number}.stderr",
                    timeout=self.timeout,
                    emulator=emulator,
                    stream=emulator.stream,
                    exit_on_failure=False,
                )
                after = emulator.stats()
                run = Run(
                    measurement,
                    pages=after["answers"].get("200", 0) - before["answers"].get("200", 0),
                    refused=after["twilio_concurrency_refusals"] - before["twilio_concurrency_refusals"],
                )
                runs[variant].append(run)
                check = "ok" if run.exactly_once(emulator.events) else "MISMATCH"
                print(
                    f"  round {number} {variant}: {measurement.wall:.2f} s wall, exit {measurement.returncode}, "
                    f"{measurement.records:,} RECORD lines, {measurement.distinct:,} distinct sids of "
                    f"{emulator.events:,}: {check}; {run.pages} pages, {run.refused} refused (429)",
                    flush=True,
                )
        return runs

    def timed_runs(
        self, label: str, emulator: EmulatorProcess, commands: dict[str, list[str]], rounds: int
    ) -> dict[str, list[Run]]:
        """CPU-bound: a counted check of each command first (unless --no-verify), then `rounds`
        rounds with the output to /dev/null (reading it back would compete for the CPU)."""
        checked: dict[str, bool | None] = dict.fromkeys(commands)
        if not self.args.no_verify:
            for variant, command in commands.items():
                records, distinct = count_records(
                    command,
                    emulator.stream,
                    stderr_path=self.work / f"{label}-{variant}-check.stderr",
                    timeout=self.timeout,
                )
                checked[variant] = records == distinct == emulator.events
                print(
                    f"  check {variant}: {records:,} RECORD lines, {distinct:,} distinct sids, "
                    f"{emulator.events:,} expected: {'ok' if checked[variant] else 'MISMATCH'}",
                    flush=True,
                )
        runs: dict[str, list[Run]] = {variant: [] for variant in commands}
        for number in range(1, rounds + 1):
            for variant, command in commands.items():
                measurement = measure(
                    command,
                    stderr_path=self.work / f"{label}-{variant}-{number}.stderr",
                    timeout=self.timeout,
                    emulator=emulator,
                )
                runs[variant].append(Run(measurement, checked=checked[variant]))
                print(
                    f"  round {number} {variant}: {measurement.wall:.2f} s wall, {measurement.cpu:.2f} s CPU, "
                    f"{measurement.peak_rss_mb:.1f} MB",
                    flush=True,
                )
        return runs

    # ---- the targets ---------------------------------------------------------------------

    def speed_up(self, target: str, emulator: EmulatorProcess, config: dict[str, t.Any]) -> Verdict:
        """The tap with defaults against the tap reading one request at a time."""
        label = target.split(":")[0].replace(" ", "-")
        commands = {
            "tap": self.tap(f"{label}-tap", config, emulator.stream),
            "tap-sequential": self.tap(f"{label}-sequential", {**config, **SEQUENTIAL}, emulator.stream),
        }
        runs = self.counted_runs(label, emulator, commands)
        tap = median(runs["tap"], "wall")
        sequential = median(runs["tap-sequential"], "wall")
        ratio = sequential / tap if tap else 0.0
        correct = all(run.exactly_once(emulator.events) for variant in runs.values() for run in variant)
        figure = f"sequential/tap wall {ratio:.2f}x (tap {tap:.2f} s, tap-sequential {sequential:.2f} s)"
        if not correct:
            figure += ", NOT every record exactly once with exit 0"
        return Verdict(
            target,
            figure,
            f">= {SPEED_UP:g}x, every record once",
            pass_or_fail(correct and ratio >= SPEED_UP),
            {"ratio": ratio, "tap_wall": tap, "sequential_wall": sequential, "exactly_once": correct}
            | runs_figures(runs),
        )

    def many_windows(self) -> list[Verdict]:
        with self.emulator(self.size(60_000), latency_ms=self.latency_ms) as emulator:
            config = tap_config(emulator, start_date=days_back(emulator, 29), page_size=PAGE_SIZE)
            return [self.speed_up("1: defaults, many windows", emulator, config)]

    def busy_day(self) -> list[Verdict]:
        verdicts = []
        for scenario, name in (("taskrouter-busy-day", "TaskRouter"), ("alerts-busy-day", "Alerts")):
            with self.emulator(self.size(40_000), latency_ms=self.latency_ms, scenario=scenario) as emulator:
                assert emulator.day is not None
                config = tap_config(
                    emulator,
                    start_date=f"{emulator.day:%Y-%m-%dT%H:%M:%SZ}",
                    end_date=f"{emulator.day + dt.timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
                    page_size=PAGE_SIZE,
                )
                verdicts.append(self.speed_up(f"2: one busy day, {name}", emulator, config))
        return verdicts

    def adaptive_concurrency(self) -> list[Verdict]:
        limit = CONCURRENCY_LIMIT
        with self.emulator(self.size(60_000), latency_ms=self.latency_ms, limit=limit) as emulator:
            config = tap_config(emulator, start_date=days_back(emulator, 29), page_size=PAGE_SIZE)
            runs = self.counted_runs("3", emulator, {"tap": self.tap("3-tap", config, emulator.stream)})["tap"]
        # The ceiling: every page's round trip with `limit` requests always in flight.
        ceilings = [run.pages * self.latency_ms / 1000 / limit for run in runs]
        shares = [ceiling / run.measurement.wall for ceiling, run in zip(ceilings, runs, strict=True)]
        share = statistics.median(shares)
        correct = all(run.exactly_once(emulator.events) for run in runs)
        refused = statistics.median(run.refused for run in runs)
        ceiling, pages = statistics.median(ceilings), statistics.median(run.pages for run in runs)
        figure = (
            f"{'completes' if correct else 'does NOT complete with exit 0 and every record once'}, "
            f"{share:.2f} of the ceiling (tap {median(runs, 'wall'):.2f} s, ceiling {ceiling:.2f} s "
            f"= {pages:g} pages x {self.latency_ms:g} ms / {limit}), {refused:g} answers 429 (20429) per run"
        )
        return [
            Verdict(
                f"3: adaptive concurrency, limit {limit}",
                figure,
                f"completes, >= {CEILING_SHARE:g} of the ceiling",
                pass_or_fail(correct and share >= CEILING_SHARE),
                {
                    "share_of_ceiling": share,
                    "shares": shares,
                    "ceilings": ceilings,
                    "pages": [run.pages for run in runs],
                    "refused": [run.refused for run in runs],
                    "exactly_once": correct,
                }
                | runs_figures({"tap": runs}),
            )
        ]

    def cpu_bound(self) -> list[Verdict]:
        events = self.size(200_000)
        with self.emulator(events, latency_ms=0) as emulator:
            config = tap_config(emulator, start_date=days_back(emulator, 29), page_size=PAGE_SIZE)
            raw_config = self.file("config-4-raw.json", config)
            commands = {
                "raw": [PYTHON, "-m", "benchmarks.baseline_raw", "--config", str(raw_config)],
                "tap": self.tap("4-tap", config, emulator.stream),
            }
            runs = self.timed_runs("4", emulator, commands, self.args.cpu_runs)
        correct = all(run.exactly_once(events) for variant in runs.values() for run in variant)
        cpu = median(runs["tap"], "cpu") / median(runs["raw"], "cpu")
        wall = median(runs["tap"], "wall") / median(runs["raw"], "wall")
        rss = median(runs["tap"], "peak_rss_mb")
        wrong = "" if correct else ", NOT every record exactly once"

        def both(name: str) -> str:
            return f"tap {median(runs['tap'], name):.2f} s, raw {median(runs['raw'], name):.2f} s"

        verdicts = [
            Verdict(
                "4: CPU-bound, CPU",
                f"tap/raw CPU {cpu:.2f}x ({both('cpu')}){wrong}",
                f"<= {CPU_RATIO:g}x",
                pass_or_fail(correct and cpu <= CPU_RATIO),
                {"ratio": cpu} | runs_figures(runs),
            ),
            Verdict(
                "4: CPU-bound, wall",
                f"tap/raw wall {wall:.2f}x ({both('wall')}){wrong}",
                f"<= {WALL_RATIO:g}x",
                pass_or_fail(correct and wall <= WALL_RATIO),
                {"ratio": wall},
            ),
        ]
        large = self.size(1_000_000)
        if self.args.quick:
            verdicts.append(
                Verdict(
                    "4: CPU-bound, peak RSS",
                    f"{rss:.1f} MB at {events:,} events; --quick: the {large:,}-event run was skipped, "
                    "flatness not measured",
                    f"< {RSS_LIMIT_MB:g} MB, within {RSS_GROWTH:.0%} from {events:,} to {large:,}",
                    "SKIPPED" if rss < RSS_LIMIT_MB else "FAIL",
                    {"peak_rss_mb": {events: rss}},
                )
            )
            return verdicts
        with self.emulator(large, latency_ms=0) as emulator:
            config = tap_config(emulator, start_date=days_back(emulator, 29), page_size=PAGE_SIZE)
            large_runs = self.timed_runs(
                "4-large", emulator, {"tap": self.tap("4-large-tap", config, emulator.stream)}, self.runs
            )
        large_rss = median(large_runs["tap"], "peak_rss_mb")
        growth = large_rss / rss - 1
        large_correct = all(run.exactly_once(large) for run in large_runs["tap"])
        verdicts.append(
            Verdict(
                "4: CPU-bound, peak RSS",
                f"{rss:.1f} MB at {events:,} events, {large_rss:.1f} MB at {large:,} ({growth:+.1%})"
                + ("" if large_correct else ", NOT every record exactly once"),
                f"< {RSS_LIMIT_MB:g} MB, within {RSS_GROWTH:.0%}",
                pass_or_fail(large_correct and max(rss, large_rss) < RSS_LIMIT_MB and abs(growth) <= RSS_GROWTH),
                {"peak_rss_mb": {events: rss, large: large_rss}, "growth": growth} | runs_figures(large_runs),
            )
        )
        return verdicts


def days_back(emulator: EmulatorProcess, days: int) -> str:
    """Midnight UTC `days` days before the emulator's present: the start of the data."""
    return f"{emulator.now.astimezone(dt.UTC) - dt.timedelta(days=days):%Y-%m-%d}T00:00:00Z"


def median(runs: list[Run], name: str) -> float:
    return float(statistics.median(getattr(run.measurement, name) for run in runs))


def runs_figures(runs: dict[str, list[Run]]) -> dict[str, t.Any]:
    return {
        "runs": {
            variant: [
                dataclasses.asdict(run.measurement)
                | {"pages": run.pages, "refused": run.refused, "checked": run.checked}
                for run in rs
            ]
            for variant, rs in runs.items()
        }
    }


def render(verdicts: list[Verdict]) -> list[str]:
    width = max(len(verdict.target) for verdict in verdicts)
    lines = [f"{'target':<{width}}  {'status':<8}figure  (threshold)"]
    lines += [f"{v.target:<{width}}  {v.status:<8}{v.figure}  ({v.threshold})" for v in verdicts]
    return lines


TARGETS: dict[str, t.Callable[[Targets], list[Verdict]]] = {
    "1": Targets.many_windows,
    "2": Targets.busy_day,
    "3": Targets.adaptive_concurrency,
    "4": Targets.cpu_bound,
}


def run_targets(args: argparse.Namespace) -> None:
    chosen = [name.strip() for name in (args.only or ",".join(TARGETS)).split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TARGETS]
    if unknown or not chosen:
        sys.exit(f"--only: unknown targets {unknown}; choose from {', '.join(TARGETS)}")
    if args.runs < 1:
        sys.exit("--runs must be at least 1")
    print(
        f"tap-events targets of #18: {', '.join(chosen)}; {args.runs} run(s) of each variant, medians"
        + (", --quick" if args.quick else "")
        + (f", sizes x {args.targets_scale:g}" if args.targets_scale != 1 else "")
        + f"; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load_average()}",
        flush=True,
    )
    verdicts: list[Verdict] = []
    with tempfile.TemporaryDirectory(prefix="tap-events-targets-") as temporary:
        targets = Targets(args, Path(temporary))
        for name in chosen:
            print(f"\ntarget {name}", flush=True)
            for verdict in TARGETS[name](targets):
                print(verdict.line(), flush=True)
                verdicts.append(verdict)
    print()
    for line in render(verdicts):
        print(line)
    print(f"load average at the end: {load_average()} (other processes skew the figures)")
    if args.json_out:
        settings = {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()}
        args.json_out.write_text(
            json.dumps({"settings": settings, "targets": [dataclasses.asdict(v) for v in verdicts]}, indent=2)
        )
