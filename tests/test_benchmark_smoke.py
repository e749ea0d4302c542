"""The benchmark command runs end to end on a tiny data set and prints its table (no timing checks)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 2000


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
