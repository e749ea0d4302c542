"""The fleet benchmark runs end to end on a few workspaces and prints every target's figure and
verdict, and its JSON (no timing checks: the requests and bytes it counts are checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_fleet_benchmark_prints_each_target_for_both_runs(tmp_path):
    out = tmp_path / "fleet.json"
    arguments = ["--workspaces", "3", "6", "--latency-ms", "0", "--json-out", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.fleet", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    for target in ("target 1", "target 2", "target 3", "target 4", "target 5"):
        assert target in result.stdout
    figures = json.loads(out.read_text())
    assert [entry["workspaces"] for entry in figures] == [3, 6]
    for entry in figures:
        for run in ("first", "incremental"):
            assert entry[run]["requests_by_path"]["workspace_events"] == entry["workspaces"]
            assert entry[run]["records"] > 0
            assert entry[run]["state_bytes"] > 0
