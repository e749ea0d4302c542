"""`python3 dev.py demo` after set-up ends with the OCSF export (README "Into a SIEM"): JSON lines
per class in output/ocsf/, Security Lake's layout in output/security-lake/, and a summary naming
each class, its count and where its files are."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.ocsf_schema import CLASSES
from tests.meltano_helpers import ROOT, base_environment, install_plugins, one_meltano_run_at_a_time


@dataclass
class Demo:
    console: list[str]
    output: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    install_plugins()
    workdir = tmp_path_factory.mktemp("ocsf-demo")
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
