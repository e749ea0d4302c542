"""`python3 dev.py demo` after set-up, end to end: a console a person reads (Meltano's lines, the
tap's own lines, the warehouse summary), while the SDK's METRIC points go whole to
output/metrics.jsonl; and it ends with the OCSF export (README "Into a SIEM"): JSON lines per
class in output/ocsf/, Security Lake's layout in output/security-lake/, and a summary naming each
class, its count and where its files are.

The demo's pipeline (`dev.demo_pipeline`, everything but the venv and plugin set-up) runs once for
the whole file (it takes minutes), with the default data set, its own Meltano system database and
its own output folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.ocsf_schema import CLASSES
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


def test_the_demo_writes_json_lines_per_class(demo):
    for each in CLASSES:
        lines = (demo.output / "ocsf" / f"{each.name}.jsonl").read_text().splitlines()
        assert lines, each.name
        assert {json.loads(line)["class_uid"] for line in lines} == {each.uid}


def test_the_demo_writes_the_security_lake_layout(demo):
    for each in CLASSES:
        files = list(
            (demo.output / "security-lake" / "ext" / each.source).glob("region=*/accountId=*/eventDay=*/*.parquet")
        )
        assert files, each.source


def test_the_summary_names_each_class_its_count_and_files(demo):
    header = next(line for line in demo.console if line.startswith("OCSF 1.1.0 events"))
    assert str(demo.output / "ocsf") in header and str(demo.output / "security-lake") in header
    for each in CLASSES:
        count = len((demo.output / "ocsf" / f"{each.name}.jsonl").read_text().splitlines())
        pattern = rf"^  {re.escape(each.caption)} \({each.uid}\) +{count} / {count} +{each.name}\.jsonl +{each.source}$"
        assert any(re.match(pattern, line) for line in demo.console), each.caption
