"""The SDK's lines said per partition or per discovery ("Starting incremental sync of…", "Added … as
child stream…"), which the progress lines and the closing report sum up, are DEBUG: shown only when
asked for, so that a run's console stays short."""

from __future__ import annotations

import pytest

from tests.common import twilio_config
from tests.tap_runner import catalog_selecting, run_tap

STREAMS = ["twilio_taskrouter_workspaces", "twilio_taskrouter_events"]
ROUTINE = ("Starting incremental sync of 'twilio_taskrouter_events' with bookmark value", "as child stream to")


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_routine_sdk_lines_show_at_debug_only(emulator, level, shown):
    config = twilio_config(emulator)
    run = run_tap(config, catalog=catalog_selecting(config, STREAMS), env={"LOGLEVEL": level})

    assert run.returncode == 0, run.stderr
    assert [line in run.stderr for line in ROUTINE] == [shown, shown]
    assert "Progress: twilio_taskrouter_events" in run.stderr
