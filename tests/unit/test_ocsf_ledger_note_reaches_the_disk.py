"""The note of a write under way (`Ledger.begin`) is replaced whole, and durably: its data is on
disk before the new name points to it, and the folder holds the new name before the export
writes anything, so that a crash (power cut included) leaves the whole note or the one before."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.export_ocsf import Ledger
from scripts.ocsf_schema import CLASSES

API_ACTIVITY = next(each for each in CLASSES if each.name == "api_activity")


def test_the_note_is_synced_before_its_rename_and_its_folder_after(tmp_path, monkeypatch):
    done: list[tuple[str, ...]] = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(descriptor: int) -> None:
        done.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        fsync(descriptor)

    def recorded_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        done.append(("replace", str(source), str(target)))
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    ledger = Ledger(tmp_path.resolve() / "ledger", API_ACTIVITY)  # as /proc names the descriptors

    ledger.begin({"file": "x"}, ["AE1"])

    note, temporary = str(ledger.pending), str(ledger.pending) + ".tmp"
    assert done == [("fsync", temporary), ("replace", temporary, note), ("fsync", str(ledger.root))]
    assert Path(note).exists()
