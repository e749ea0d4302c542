"""The OCSF export writes each event once per destination: a re-run adds only what is new, and a
run that died between writing the files and recording them in the ledger is undone (or, when its
ledger lines were written in full, kept) by the next run: no event lost, none twice."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scripts.export_ocsf import Ledger, export_jsonl, export_security_lake
from scripts.ocsf_schema import CLASSES
from tests.ocsf_samples import api_activity

API_ACTIVITY = next(each for each in CLASSES if each.name == "api_activity")
DAY = 86_400_000


def events(count: int, start: int = 0) -> list[dict]:
    return [api_activity(f"AE{n:04d}", 1794700000000 + n * DAY // 4, f"AC{n % 2}") for n in range(start, count)]


def jsonl_ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger" / "jsonl", API_ACTIVITY)


def export_both(tmp_path: Path, batch: list[dict]) -> tuple[int, int]:
    jsonl = export_jsonl(API_ACTIVITY, batch, tmp_path / "ocsf", jsonl_ledger(tmp_path))
    parquet, _ = export_security_lake(
        API_ACTIVITY,
        batch,
        tmp_path / "lake",
        Ledger(tmp_path / "ledger" / "lake", API_ACTIVITY),
        region="eu-west-1",
        account_id=None,
    )
    return jsonl, parquet


def exported_uids(tmp_path: Path) -> tuple[list[str], list[str]]:
    lines = (tmp_path / "ocsf" / "api_activity.jsonl").read_text().splitlines()
    jsonl = [json.loads(line)["metadata"]["uid"] for line in lines]
    parquet = [
        row["metadata"]["uid"]
        for path in sorted((tmp_path / "lake").rglob("*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]
    return jsonl, parquet


def test_a_rerun_adds_only_new_events(tmp_path):
    assert export_both(tmp_path, events(6)) == (6, 6)
    assert export_both(tmp_path, events(6)) == (0, 0)
    assert export_both(tmp_path, events(9)) == (3, 3)
    jsonl, parquet = exported_uids(tmp_path)
    expected = [event["metadata"]["uid"] for event in events(9)]
    assert sorted(jsonl) == sorted(parquet) == expected


def test_a_run_that_died_before_its_ledger_is_undone(tmp_path, monkeypatch):
    export_both(tmp_path, events(4))

    def die(self, uids):
        raise KeyboardInterrupt("killed")

    with monkeypatch.context() as patched:
        patched.setattr(Ledger, "commit", die)
        with pytest.raises(KeyboardInterrupt):
            export_jsonl(API_ACTIVITY, events(8), tmp_path / "ocsf", jsonl_ledger(tmp_path))
        with pytest.raises(KeyboardInterrupt):
            export_security_lake(
                API_ACTIVITY,
                events(8),
                tmp_path / "lake",
                Ledger(tmp_path / "ledger" / "lake", API_ACTIVITY),
                region="eu-west-1",
                account_id=None,
            )
    assert (tmp_path / "ledger" / "jsonl" / "api_activity.pending").exists()
    assert export_both(tmp_path, events(8)) == (4, 4)
    jsonl, parquet = exported_uids(tmp_path)
    expected = [event["metadata"]["uid"] for event in events(8)]
    assert sorted(jsonl) == sorted(parquet) == expected
    assert not list((tmp_path / "ledger").rglob("*.pending"))


def test_a_run_that_died_after_its_ledger_is_kept(tmp_path, monkeypatch):
    export_both(tmp_path, events(4))
    original = Path.unlink

    def die_on_pending(self, missing_ok=False):
        if self.suffix == ".pending":
            raise KeyboardInterrupt("killed")
        original(self, missing_ok=missing_ok)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "unlink", die_on_pending)
        with pytest.raises(KeyboardInterrupt):
            export_jsonl(API_ACTIVITY, events(8), tmp_path / "ocsf", jsonl_ledger(tmp_path))
    assert export_both(tmp_path, events(8)) == (0, 4)
    jsonl, parquet = exported_uids(tmp_path)
    expected = [event["metadata"]["uid"] for event in events(8)]
    assert sorted(jsonl) == sorted(parquet) == expected
