"""`python -m scripts.export_ocsf`: bad settings and an unreadable warehouse end in one clear line
naming the setting (no traceback, no password); a warehouse without the OCSF models exports nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from scripts.ocsf_schema import CLASSES
from tests.postgres_cluster import free_port

ROOT = Path(__file__).resolve().parents[2]


def export(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.export_ocsf", *map(str, arguments)],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_duckdb_file_is_named(tmp_path):
    result = export("--duckdb", tmp_path / "nowhere.duckdb", cwd=tmp_path)
    assert result.returncode == 2
    assert "--duckdb: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_region_that_is_not_a_name_is_refused(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    result = export("--duckdb", warehouse, "--region", "../elsewhere", cwd=tmp_path)
    assert result.returncode == 2
    assert "--region" in result.stderr
    assert not (tmp_path / "output").exists()


def test_an_unreachable_postgres_is_one_line_without_its_password(tmp_path):
    conninfo = f"host=127.0.0.1 port={free_port()} dbname=warehouse user=siem password=s3cret-pw connect_timeout=5"
    result = export("--postgres", conninfo, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("python -m scripts.export_ocsf: error: --postgres: ")
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_a_warehouse_without_the_models_exports_nothing(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    result = export("--duckdb", warehouse, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for each in CLASSES:
        assert f"{each.caption} ({each.uid})" in result.stdout
        assert not (tmp_path / "output" / "ocsf" / f"{each.name}.jsonl").exists()
    assert not list((tmp_path / "output").rglob("*.parquet"))
