"""`python3 dev.py demo` after set-up: a console a person reads (Meltano's lines, the tap's own
lines, the warehouse summary), while the SDK's METRIC points go whole to output/metrics.jsonl.

The demo's pipeline (`dev.demo_pipeline`, everything but the venv and plugin set-up) runs with the
default data set, its own Meltano system database and its own output folder."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.meltano_helpers import ROOT, base_environment, install_plugins, one_meltano_run_at_a_time
from tests.warehouses import DuckDBWarehouse

#: The issue's bound on the console after set-up, for the default data set.
MAX_CONSOLE_LINES = 150


@dataclass
class Demo:
    console: list[str]
    output: Path

    def metric_points(self) -> list[dict[str, t.Any]]:
        lines = (self.output / "metrics.jsonl").read_text().splitlines()
        return [json.loads(line)["metric_info"] for line in lines]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    install_plugins()
    workdir = tmp_path_factory.mktemp("demo")
    env = {**base_environment(), "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}"}
    script = "import dev, pathlib, sys; dev.demo_pipeline(pathlib.Path(sys.executable), pathlib.Path(sys.argv[1]))"
    with one_meltano_run_at_a_time():
        result = subprocess.run(
            [sys.executable, "-c", script, str(workdir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    console = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 0, "\n".join(console[-60:])
    return Demo(console, workdir / "output")


def test_the_console_stays_under_150_lines(demo):
    assert len(demo.console) < MAX_CONSOLE_LINES, "\n".join(demo.console)


def test_the_console_shows_meltano_and_the_tap_but_no_metric(demo):
    assert not [line for line in demo.console if "METRIC" in line]
    assert any(" meltano " in line for line in demo.console)
    assert any("Beginning sync of 'twilio_monitor_events'" in line for line in demo.console)


def test_metrics_jsonl_counts_every_record_loaded(demo):
    counted: dict[str, int] = defaultdict(int)
    for point in demo.metric_points():
        if point["metric"] == "record_count":
            counted[point["tags"]["stream"]] += point["value"]
    warehouse = DuckDBWarehouse(demo.output / "warehouse.duckdb")
    assert counted and dict(counted) == {table: warehouse.count(table) for table in warehouse.tables()}


def test_metrics_jsonl_holds_every_kind_of_sdk_metric(demo):
    kinds = {point["metric"] for point in demo.metric_points()}
    assert {"record_count", "http_request_count", "http_request_duration", "sync_duration"} <= kinds
