"""task_attributes and worker_attributes arrive as JSON text: the tap emits them as objects."""

from __future__ import annotations

import datetime as dt
import json

from tests.common import TASKROUTER_EVENTS, twilio_config
from tests.tap_runner import run_tap
from tests.taskrouter_helpers import catalog, events_by_workspace, get_events, oldest_start, workspace_sids

FIELDS = ("task_attributes", "worker_attributes")


def test_the_api_sends_attributes_as_json_strings(emulator):
    sid = workspace_sids(emulator)[0]

    served = get_events(emulator, sid, StartDate=oldest_start(emulator), PageSize=1000).json()["events"]

    values = [event["event_data"][field] for event in served for field in FIELDS if field in event["event_data"]]
    assert values and all(isinstance(value, str) for value in values)


def test_attributes_are_emitted_as_the_objects_their_json_text_holds(emulator):
    originals = {
        event["sid"]: event["event_data"] for events in events_by_workspace(emulator).values() for event in events
    }

    run = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    checked = 0
    for record in run.records[TASKROUTER_EVENTS]:
        for field in FIELDS:
            if field in originals[record["sid"]]:
                assert record["event_data"][field] == json.loads(originals[record["sid"]][field])
                assert isinstance(record["event_data"][field], dict)
                checked += 1
    assert checked >= len(run.records[TASKROUTER_EVENTS])  # every event has at least one of them


def test_attributes_that_are_not_a_json_object_are_kept_as_the_original_text(emulator):
    sid = workspace_sids(emulator)[0]
    when = emulator.now - dt.timedelta(minutes=5)
    [broken] = emulator.taskrouter.add_events(sid, [when])
    broken["event_data"]["task_attributes"] = '{"type": "support", '
    broken["event_data"]["worker_attributes"] = '"just a string"'

    run = run_tap(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    (record,) = [record for record in run.records[TASKROUTER_EVENTS] if record["sid"] == broken["sid"]]
    assert record["event_data"]["task_attributes"] == '{"type": "support", '
    assert record["event_data"]["worker_attributes"] == '"just a string"'
