"""Benchmark tap-events against a raw `requests` + `orjson` loop and a plain Singer SDK tap.

    python -m benchmarks.run                          # 200,000 events, no latency, 3 runs each
    python -m benchmarks.run --events 1000000         # memory: does peak RSS grow with N?
    python -m benchmarks.run --latency-ms 200 --days 30 --events 20000
    python -m benchmarks.run --profile                # and a pyinstrument profile of one tap run
    python -m benchmarks.run --targets                # the four targets of #18 (benchmarks/targets.py)

Starts the emulator in its own process (its CPU is not counted against the measured ones),
then runs each variant as a subprocess with its output to /dev/null, alternating variants in
every round, and prints the medians of wall time, records/s, CPU seconds (user + system) and
peak RSS of each, plus the ratios tap/raw and tap/sdk-default. Variants:

- fetch-only   baseline_raw.py --fetch-only: requests + orjson.loads, nothing written (what
               HTTP and the emulator alone cost: the ceiling of any client)
- raw          baseline_raw.py: requests + orjson writing the same RECORD lines as the tap
- sdk-default  baseline_sdk_default.py: a plain Singer SDK RESTStream, SDK defaults only
- tap          python -m tap_events --config ... --catalog <only the stream selected>
- tap-sequential  the same with max_concurrent_requests 1 (one request at a time; default
               with --latency-ms)
- tap-sdk-loop  the tap with the SDK's own record loop and TYPE_CONFORMANCE_LEVEL NONE
               (benchmarks/tap_sdk_loop.py: does the tap's copied loop still earn its place?)
- tap-before   with --tap-before DIR: the tap_events package copied in DIR (an earlier commit)

All of them read the same day windows (StartDate = EndDate = one UTC day) and follow
`next_page_url`. Before the timed rounds, each variant runs once with its output read back to
check that it emitted every event exactly once (also a warm-up); `--no-verify` skips that.
Only 127.0.0.1 is used; every process has a time limit. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import datetime as dt
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

from benchmarks.processes import (
    PYTHON,
    ROOT,
    EmulatorProcess,
    Measurement,
    child_env,
    count_records,
    fail,
    load_average,
    measure,
    tap_catalog,
    tap_command,
    tap_config,
)
from benchmarks.targets import run_targets

PROFILES = Path(__file__).resolve().parent / "profiles"
STREAMS = ("twilio_monitor_events",)
VARIANTS = ("fetch-only", "raw", "sdk-default", "tap", "tap-sequential", "tap-sdk-loop")
DEFAULT_VARIANTS = ("fetch-only", "raw", "sdk-default", "tap")
#: With --latency-ms: the tap reading one request at a time too, the other sequential reference.
DEFAULT_LATENCY_VARIANTS = (*DEFAULT_VARIANTS, "tap-sequential")


@dataclasses.dataclass
class Summary:
    variant: str
    records: int
    runs: int
    wall: float
    cpu: float
    peak_rss_mb: float
    emulator_cpu: float | None

    @property
    def records_per_second(self) -> float:
        return self.records / self.wall if self.wall else 0.0


def commands(
    config: Path, sequential_config: Path, catalog: Path, before: tuple[Path, Path] | None = None
) -> dict[str, list[str]]:
    """The command of each variant; `before` is (package copy, its catalog) for tap-before."""
    raw = [PYTHON, "-m", "benchmarks.baseline_raw", "--config", str(config)]
    variants = {
        "fetch-only": [*raw, "--fetch-only"],
        "raw": raw,
        "sdk-default": [PYTHON, "-m", "benchmarks.baseline_sdk_default", "--config", str(config)],
        "tap": [*tap_command(None), "--config", str(config), "--catalog", str(catalog)],
        "tap-sequential": [*tap_command(None), "--config", str(sequential_config), "--catalog", str(catalog)],
        "tap-sdk-loop": [PYTHON, "-m", "benchmarks.tap_sdk_loop", "--config", str(config), "--catalog", str(catalog)],
    }
    if before is not None:
        source, before_catalog = before
        variants["tap-before"] = [*tap_command(source), "--config", str(config), "--catalog", str(before_catalog)]
    return variants


def measure_start_up(
    args: argparse.Namespace,
    config: dict[str, t.Any],
    command: list[str],
    emulator: EmulatorProcess,
    work: Path,
) -> list[Measurement]:
    """A tap over a one-minute range before any event: what every run costs whatever N."""
    start = dt.datetime.fromisoformat(config["start_date"].replace("Z", "+00:00"))
    first = start - dt.timedelta(days=2)
    empty = {
        **config,
        "start_date": f"{first:%Y-%m-%dT%H:%M:%SZ}",
        "end_date": f"{first + dt.timedelta(minutes=1):%Y-%m-%dT%H:%M:%SZ}",
    }
    config_path = work / "config-empty.json"
    config_path.write_text(json.dumps(empty))
    at = command.index("--config") + 1
    command = [*command[:at], str(config_path), *command[at + 1 :]]
    measurements = []
    for number in range(args.runs):
        stderr_path = work / f"start-up-{number}.stderr"
        measurement = measure(command, stderr_path=stderr_path, timeout=args.timeout, emulator=emulator)
        if measurement.returncode != 0:
            fail(command, measurement.returncode, stderr_path)
        measurements.append(measurement)
    return measurements


def summarise(variant: str, records: int, runs: list[Measurement]) -> Summary:
    emulator_cpus = [run.emulator_cpu for run in runs if run.emulator_cpu is not None]
    return Summary(
        variant=variant,
        records=records,
        runs=len(runs),
        wall=statistics.median(run.wall for run in runs),
        cpu=statistics.median(run.cpu for run in runs),
        peak_rss_mb=statistics.median(run.peak_rss_mb for run in runs),
        emulator_cpu=statistics.median(emulator_cpus) if emulator_cpus else None,
    )


def render_table(summaries: list[Summary]) -> list[str]:
    lines = [
        f"{'variant':<16}{'records':>10}{'wall s':>9}{'records/s':>11}{'CPU s':>8}"
        f"{'peak RSS MB':>13}{'emulator CPU s':>16}"
    ]
    for s in summaries:
        emulator_cpu = f"{s.emulator_cpu:.2f}" if s.emulator_cpu is not None else "n/a"
        lines.append(
            f"{s.variant:<16}{s.records:>10,}{s.wall:>9.2f}{s.records_per_second:>11,.0f}"
            f"{s.cpu:>8.2f}{s.peak_rss_mb:>13.1f}{emulator_cpu:>16}"
        )
    return lines


RATIOS = (
    ("tap", "raw"),
    ("tap", "sdk-default"),
    ("tap", "tap-sequential"),
    ("tap", "tap-before"),
    ("tap-sdk-loop", "raw"),
    ("tap", "tap-sdk-loop"),
    ("tap-before", "raw"),
    ("tap-before", "sdk-default"),
)


def render_ratios(by_variant: dict[str, Summary], latency_ms: float) -> list[str]:
    if "tap" not in by_variant and "tap-before" not in by_variant:
        return []
    lines = [f"{'ratio':<24}{'wall':>7}{'records/s':>11}{'CPU s':>8}{'peak RSS':>10}"]
    for name, other in RATIOS:
        tap, base = by_variant.get(name), by_variant.get(other)
        if tap is None or base is None or not base.wall or not base.cpu or not base.peak_rss_mb:
            continue
        lines.append(
            f"{name + '/' + other:<24}{tap.wall / base.wall:>6.2f}x"
            f"{tap.records_per_second / base.records_per_second:>10.2f}x"
            f"{tap.cpu / base.cpu:>7.2f}x{tap.peak_rss_mb / base.peak_rss_mb:>9.2f}x"
        )
    lines.append("targets:")
    if latency_ms > 0:
        lines.append(
            "  latency-bound: tap records/s >= 4 x sequential paging (raw, tap-sequential and sdk-default "
            "read one request at a time)"
        )
    else:
        lines.append("  CPU-bound: tap wall <= 1.5 x raw; tap records/s >= 3 x sdk-default")
    lines.append("  memory: tap peak RSS < 150 MB, within 10% between --events 200000 and 1000000")
    return lines


def emulator_note(by_variant: dict[str, Summary]) -> list[str]:
    ceiling = by_variant.get("fetch-only")
    if ceiling is None or ceiling.emulator_cpu is None or not ceiling.wall:
        return []
    busy = ceiling.emulator_cpu / ceiling.wall
    if not ceiling.emulator_cpu:
        return ["emulator: its CPU time was not measurable"]
    lines = [
        f"emulator: {ceiling.emulator_cpu:.2f} CPU s to serve all pages, busy {busy:.0%} of the "
        f"fetch-only wall time (alone it could serve about "
        f"{ceiling.records / ceiling.emulator_cpu:,.0f} records/s)"
    ]
    if busy > 0.8:
        lines.append("  the emulator is the bottleneck of the fetch-only and raw runs")
    return lines


#: Where a record's time goes in an SDK tap: (label, function name) looked up in the profile.
BREAKDOWN = (
    ("the sync (everything after start-up)", "sync_all"),
    ("HTTP requests (incl. waiting for the emulator)", "_request"),
    ("JSON parse of pages", "loads"),
    ("post_process (timestamp normalisation)", "post_process"),
    ("record conformance to the schema", "conform_record_data_types"),
    ("dropping deselected properties", "pop_deselected_record_properties"),
    ("stream maps (SameRecordTransform)", "transform"),
    ("RECORD serialisation + write", "_write_record_message"),
    ("waiting for a page from the read-ahead threads", "acquire"),
    ("state bookkeeping per record", "_increment_stream_state"),
    ("STATE messages", "_write_state_message"),
)


def profile(variant: str, command: list[str], *, label: str, timeout: float, stderr_path: Path) -> None:
    """One run under pyinstrument; its call tree and a top list under benchmarks/profiles/."""
    if importlib.util.find_spec("pyinstrument") is None:
        print("--profile needs pyinstrument: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return
    PROFILES.mkdir(exist_ok=True)
    session = PROFILES / f"{label}.pyisession"
    module_and_args = command[1:]  # "-m module ..." or "-c program ..."
    profiled = [PYTHON, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session), *module_and_args]
    with open(os.devnull, "wb") as devnull, open(stderr_path, "wb") as stderr:
        result = subprocess.run(
            profiled,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=devnull,
            stderr=stderr,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        fail(profiled, result.returncode, stderr_path)
    tree, top = PROFILES / f"{label}.txt", PROFILES / f"{label}-top.txt"
    load = [PYTHON, "-m", "pyinstrument", f"--load={session}"]
    subprocess.run(
        [*load, "-r", "text", "--no-color", "--unicode", "-o", str(tree)],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    report = profile_top(session, " ".join(module_and_args[-5:]))
    top.write_text("\n".join(report) + "\n")
    print(
        f"\nprofile of one {variant} run: {tree.relative_to(ROOT)} (call tree), {top.relative_to(ROOT)} (this summary)"
    )
    for line in report:
        print(line)


def profile_top(session_path: Path, program: str, limit: int = 25) -> list[str]:
    """Functions by own time, and the share of the run spent under a few SDK steps.

    "under" counts a function once per outermost call (recursion is not counted twice).
    """
    from pyinstrument.session import Session

    root = Session.load(str(session_path)).root_frame()
    own: dict[tuple[str, str, int], float] = {}
    under: dict[tuple[str, str, int], float] = {}
    under_name: dict[str, float] = {}  # by bare function name, for BREAKDOWN
    total = root.time if root else 0.0

    def key(frame: t.Any) -> tuple[str, str, int]:
        name = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
        return name, short_path(frame.file_path or ""), frame.line_no or 0

    def walk(frame: t.Any, active: frozenset[t.Any]) -> None:
        if frame.is_synthetic:
            return
        this, name = key(frame), frame.function
        children = [child for child in frame.children if not child.is_synthetic]
        own[this] = own.get(this, 0.0) + frame.time - sum(child.time for child in children)
        if this not in active:
            under[this] = under.get(this, 0.0) + frame.time
        if name not in active:
            under_name[name] = under_name.get(name, 0.0) + frame.time
        for child in children:
            walk(child, active | {this, name})

    if root is not None:
        walk(root, frozenset())
    lines = [
        f"program: {program}",
        f"sampled wall time: {total:.2f} s",
        "",
        f"{'own s':>7}{'under s':>9}  function",
    ]
    for this, seconds in sorted(own.items(), key=lambda item: item[1], reverse=True)[:limit]:
        name, path, line = this
        lines.append(f"{seconds:>7.3f}{under.get(this, 0.0):>9.3f}  {name}  {path}:{line}")
    lines += ["", f"{'under s':>9}{'share':>7}  step (time spent in it and below)"]
    for label, function in BREAKDOWN:
        seconds = under_name.get(function, 0.0)
        if seconds and total:
            lines.append(f"{seconds:>9.3f}{seconds / total:>7.0%}  {label} [{function}]")
    return lines


def short_path(filename: str) -> str:
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=200_000, help="events the emulator holds (200000)")
    parser.add_argument("--days", type=int, default=29, help="days the events are spread over (29)")
    parser.add_argument(
        "--latency-ms", type=float, help="added to every answer (0; with --targets, the latency-bound targets' 200)"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each variant (3)")
    parser.add_argument("--stream", choices=STREAMS, default=STREAMS[0])
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument(
        "--max-concurrent-requests", type=int, help="the tap's max_concurrent_requests (default: the tap's, 8)"
    )
    parser.add_argument(
        "--variants",
        help=f"comma-separated, from {', '.join(VARIANTS)} (default: {', '.join(DEFAULT_VARIANTS)}; "
        "with --latency-ms also tap-sequential, the tap with max_concurrent_requests 1)",
    )
    parser.add_argument(
        "--tap-before",
        type=Path,
        metavar="DIR",
        help="also run, as variant tap-before, the tap_events package found in DIR (a copy of an "
        "earlier commit: git archive COMMIT tap_events | tar -x -C DIR)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the counted warm-up run")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="tap",
        choices=[*VARIANTS, "tap-before"],
        default=None,
        help="also profile one run of this variant (default: tap) with pyinstrument",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="limit for one run, seconds (1800)")
    parser.add_argument("--json-out", type=Path, help="also write the medians and every run as JSON")
    targets = parser.add_argument_group("the targets of issue #18 (benchmarks/targets.py)")
    targets.add_argument(
        "--targets",
        action="store_true",
        help="run the four targets, each with its own emulator and sizes (--events, --days, --variants "
        "do not apply), and print each one's figure and verdict",
    )
    targets.add_argument("--quick", action="store_true", help="with --targets: skip the 1,000,000-event memory run")
    targets.add_argument("--only", help="with --targets: only these, e.g. 2,3 (default: 1,2,3,4)")
    targets.add_argument(
        "--cpu-runs",
        type=int,
        default=7,
        help="with --targets: timed rounds of target 4's variants (7: one program's CPU seconds vary by "
        "up to 40%% between rounds on a shared machine, and a median of more rounds varies less)",
    )
    # Tests only: every size of the targets times this (a tiny end-to-end run).
    targets.add_argument("--targets-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.targets:
        return args
    if args.latency_ms is None:
        args.latency_ms = 0.0
    if args.variants is None:
        args.variants = ",".join(DEFAULT_LATENCY_VARIANTS if args.latency_ms > 0 else DEFAULT_VARIANTS)
    args.variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    if args.tap_before is not None:
        args.tap_before = args.tap_before.resolve()
        if not (args.tap_before / "tap_events" / "tap.py").is_file():
            parser.error(f"--tap-before: no tap_events/tap.py in {args.tap_before}")
        if "tap-before" not in args.variants:
            args.variants.append("tap-before")
    if args.profile == "tap-before" and args.tap_before is None:
        parser.error("--profile tap-before needs --tap-before DIR")
    unknown = set(args.variants) - {*VARIANTS, *(["tap-before"] if args.tap_before else [])}
    if unknown or not args.variants:
        parser.error(f"--variants: unknown {sorted(unknown)}; choose from {', '.join(VARIANTS)}")
    if args.runs < 1 or args.events < 1 or args.days < 1:
        parser.error("--runs, --events and --days must be at least 1")
    return args


def compile_sources() -> None:
    """Byte-code for the measured programs' own modules, as an installed package has it: with
    PYTHONDONTWRITEBYTECODE set (as here) every run would compile the tap's modules again
    (about 0.05 s of CPU a run), which the raw loop, one module, barely pays."""
    for package in ("tap_events", "benchmarks", "emulator"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    compile_sources()
    if args.targets:
        run_targets(args)
        return
    print(
        f"tap-events benchmark: {args.stream}, {args.events:,} events over {args.days} days, "
        f"page size {args.page_size}, latency {args.latency_ms:g} ms, {args.runs} run(s) each, "
        f"medians; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {load_average()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="tap-events-bench-") as temporary:
        work = Path(temporary)
        emulator = EmulatorProcess(
            args.events,
            args.days,
            args.latency_ms,
            timeout=120 + args.events / 2000,
        )
        try:
            print(
                f"emulator: {emulator.events:,} events at {emulator.base_url}, built in {emulator.setup_seconds:.1f} s",
                flush=True,
            )
            summaries, runs, command_of = benchmark(args, emulator, work)
            if args.profile:
                label = f"{args.profile}-{args.events}ev-{args.latency_ms:g}ms"
                profile(
                    args.profile,
                    command_of[args.profile],
                    label=label,
                    timeout=args.timeout,
                    stderr_path=work / "profile.stderr",
                )
        finally:
            emulator.stop()
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "settings": {
                        key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()
                    },
                    "medians": [
                        dataclasses.asdict(s) | {"records_per_second": s.records_per_second} for s in summaries
                    ],
                    "runs": {variant: [dataclasses.asdict(m) for m in ms] for variant, ms in runs.items()},
                },
                indent=2,
            )
        )


def benchmark(
    args: argparse.Namespace, emulator: EmulatorProcess, work: Path
) -> tuple[list[Summary], dict[str, list[Measurement]], dict[str, list[str]]]:
    start_date = emulator.now.astimezone(dt.UTC) - dt.timedelta(days=args.days)
    config = tap_config(emulator, start_date=f"{start_date:%Y-%m-%d}T00:00:00Z", page_size=args.page_size)
    if args.max_concurrent_requests is not None:
        config["max_concurrent_requests"] = args.max_concurrent_requests
    config_path, catalog_path = work / "config.json", work / "catalog.json"
    config_path.write_text(json.dumps(config))
    sequential_config_path = work / "config-sequential.json"
    sequential_config_path.write_text(json.dumps({**config, "max_concurrent_requests": 1}))
    catalog_path.write_text(json.dumps(tap_catalog(config_path, args.stream, work / "discover.stderr")))
    before = None
    if args.tap_before is not None:
        before_catalog = tap_catalog(config_path, args.stream, work / "discover-before.stderr", args.tap_before)
        before = (args.tap_before, work / "catalog-before.json")
        before[1].write_text(json.dumps(before_catalog))
    command_of = commands(config_path, sequential_config_path, catalog_path, before)

    records = dict.fromkeys(args.variants, emulator.events)
    if not args.no_verify:
        for variant in args.variants:
            if variant == "fetch-only":
                continue  # writes nothing to count; it reads the same pages as raw
            stderr_path = work / f"{variant}-verify.stderr"
            counted, distinct = count_records(
                command_of[variant], args.stream, stderr_path=stderr_path, timeout=args.timeout
            )
            status = "ok" if counted == distinct == emulator.events else "MISMATCH"
            print(
                f"check {variant}: {counted:,} RECORD lines, {distinct:,} distinct sids, "
                f"{emulator.events:,} expected: {status}",
                flush=True,
            )
            records[variant] = distinct

    runs: dict[str, list[Measurement]] = {variant: [] for variant in args.variants}
    for round_number in range(1, args.runs + 1):
        for variant in args.variants:
            stderr_path = work / f"{variant}-{round_number}.stderr"
            measurement = measure(
                command_of[variant],
                stderr_path=stderr_path,
                timeout=args.timeout,
                emulator=emulator,
            )
            if measurement.returncode != 0:
                fail(command_of[variant], measurement.returncode, stderr_path)
            runs[variant].append(measurement)
            print(
                f"round {round_number} {variant}: {measurement.wall:.2f} s wall, "
                f"{measurement.cpu:.2f} s CPU, {measurement.peak_rss_mb:.1f} MB",
                flush=True,
            )

    for variant in ("tap", "tap-before"):
        if variant in args.variants:
            runs[f"{variant} start-up"] = measure_start_up(args, config, command_of[variant], emulator, work)
    summaries = [summarise(variant, records[variant], runs[variant]) for variant in args.variants]
    by_variant = {s.variant: s for s in summaries}
    print()
    lines = [*render_table(summaries), "", *render_ratios(by_variant, args.latency_ms)]
    lines += emulator_note(by_variant)
    for variant in ("tap", "tap-before"):
        if f"{variant} start-up" in runs:
            start_up = summarise(f"{variant} start-up", 0, runs[f"{variant} start-up"])
            lines.append(
                f"{variant} fixed cost of a run (start-up, one empty window): "
                f"{start_up.wall:.2f} s wall, {start_up.cpu:.2f} s CPU, "
                f"{start_up.peak_rss_mb:.1f} MB"
            )
    lines.append(f"load average at the end: {load_average()} (other processes skew the figures)")
    for line in lines:
        print(line)
    return summaries, runs, command_of


if __name__ == "__main__":
    main()
