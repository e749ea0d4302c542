"""The benchmark command runs end to end on a tiny data set and prints its table (no timing checks)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 2000
#: The verdict lines of `--targets`, in order: one per target, target 2 and 4 in parts.
TARGET_VERDICTS = [
    "1: defaults, many windows",
    "2: one busy day, TaskRouter",
    "2: one busy day, Alerts",
    "3: adaptive concurrency, limit 3",
    "4: CPU-bound, CPU",
    "4: CPU-bound, wall",
    "4: CPU-bound, peak RSS",
]


def run_benchmark(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Rows of the results table, by variant: records, wall s, records/s, CPU s, RSS, emulator CPU."""
    lines = stdout.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("variant"))
    rows = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        variant, *values = line.split()
        rows[variant] = values
    return rows


def test_benchmark_prints_a_row_per_variant_and_the_ratios():
    result = run_benchmark("--events", str(EVENTS), "--runs", "1", "--no-verify")

    assert result.returncode == 0, result.stderr + result.stdout
    rows = table_rows(result.stdout)
    assert list(rows) == ["fetch-only", "raw", "sdk-default", "tap"]
    for variant, values in rows.items():
        assert values[0] == f"{EVENTS:,}", f"{variant} records"
        assert all(re.fullmatch(r"[\d,.]+|n/a", value) for value in values), values
    assert re.search(r"^tap/raw\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x$", result.stdout, re.M)
    assert re.search(r"^tap/sdk-default\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x$", result.stdout, re.M)


def test_every_variant_is_checked_to_emit_each_event_exactly_once():
    result = run_benchmark("--events", str(EVENTS), "--runs", "1", "--variants", "raw,sdk-default,tap")

    assert result.returncode == 0, result.stderr + result.stdout
    for variant in ("raw", "sdk-default", "tap"):
        expected = f"check {variant}: {EVENTS:,} RECORD lines, {EVENTS:,} distinct sids, {EVENTS:,} expected: ok"
        assert expected in result.stdout


def test_with_latency_the_tap_reading_one_request_at_a_time_runs_too():
    result = run_benchmark("--events", "300", "--days", "3", "--latency-ms", "20", "--runs", "1")

    assert result.returncode == 0, result.stderr + result.stdout
    assert list(table_rows(result.stdout)) == ["fetch-only", "raw", "sdk-default", "tap", "tap-sequential"]
    assert "check tap-sequential: 300 RECORD lines, 300 distinct sids, 300 expected: ok" in result.stdout
    assert re.search(r"^tap/tap-sequential\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x$", result.stdout, re.M)


def test_the_targets_run_end_to_end_and_print_a_verdict_for_each(tmp_path):
    figures = tmp_path / "targets.json"

    result = run_benchmark(
        "--targets", "--quick", "--runs", "1", "--cpu-runs", "1", "--no-verify", "--targets-scale", "0.002",
        "--latency-ms", "0",
        "--json-out", str(figures),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr + result.stdout
    verdicts = re.findall(r"^verdict (\d: [^:]+): .+; threshold .+: (?:PASS|FAIL|SKIPPED)$", result.stdout, re.M)
    assert verdicts == TARGET_VERDICTS
    assert "MISMATCH" not in result.stdout  # every run of targets 1 to 3 wrote each record once
    pages = [int(count) for count in re.findall(r"; (\d+) pages, \d+ refused \(429\)$", result.stdout, re.M)]
    assert len(pages) == 7 and min(pages) > 0, "targets 1 to 3: the pages the emulator answered in each run"
    assert "--quick: the 2,000-event run was skipped" in result.stdout
    assert [target["target"] for target in json.loads(figures.read_text())["targets"]] == TARGET_VERDICTS
