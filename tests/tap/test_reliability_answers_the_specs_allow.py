"""Property-based: every answer the vendors' OpenAPI schemas allow, served through the emulator.

Each example is a set of list items per stream (Monitor Events and Alerts, TaskRouter Events,
Serverless Logs, Telnyx audit events) drawn from the specs by `tests/spec_answers.py`: nullable fields null,
unknown extra fields, empty and very long strings, every Unicode plane and lone surrogates (sent
escaped), any JSON under `event_data` / `changes`, every RFC 3339 timestamp form. One tap run per
example must emit each record exactly once, with its values intact (timestamps as the same instant
in the stream's canonical form, TaskRouter attributes parsed, as documented), and every RECORD must
validate against the tap's own catalog schema.

CI runs a fixed seed (`derandomize`) and `EXAMPLES` examples; `TAP_EVENTS_PROPERTY_EXAMPLES=N`
runs N examples with a fresh random seed (Hypothesis prints it, with the failing example).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import typing as t

import jsonschema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from emulator import Emulator
from emulator.http import DEFAULT_ACCOUNT_SID
from emulator.telnyx import DEFAULT_ORGANIZATION
from emulator.twilio import SortedRecords
from tests.common import (
    MONITOR_ALERTS,
    MONITOR_EVENTS,
    SERVERLESS_LOGS,
    TASKROUTER_EVENTS,
    TELNYX_AUDIT_EVENTS,
    assert_each_once,
)
from tests.spec_answers import STREAM_SPECS, canonical, records
from tests.tap_runner import catalog_selecting, run_tap

#: Examples in CI (each one tap run over five streams); more on demand.
EXAMPLES = int(os.environ.get("TAP_EVENTS_PROPERTY_EXAMPLES", "6"))
ON_DEMAND = "TAP_EVENTS_PROPERTY_EXAMPLES" in os.environ
STREAMS = (MONITOR_EVENTS, MONITOR_ALERTS, TASKROUTER_EVENTS, SERVERLESS_LOGS, TELNYX_AUDIT_EVENTS)
DATE_TIME_FIELDS = {
    MONITOR_EVENTS: ("event_date",),
    MONITOR_ALERTS: ("date_created", "date_generated", "date_updated"),
    TASKROUTER_EVENTS: ("event_date",),
    SERVERLESS_LOGS: ("date_created",),
    TELNYX_AUDIT_EVENTS: ("created_at",),
}
#: What the run served and emitted, over every example (printed with `-s`; README's figures).
FIGURES = {"examples": 0, "answers": 0, "records": 0}
_CATALOG: dict[str, t.Any] = {}


def _serve(emulator: Emulator, drawn: dict[str, list[dict[str, t.Any]]]) -> str:
    """The drawn items in the emulator's stores; the TaskRouter workspace they belong to."""
    emulator.monitor.events[DEFAULT_ACCOUNT_SID].extend(drawn[MONITOR_EVENTS])
    emulator.monitor.alerts[DEFAULT_ACCOUNT_SID].extend(drawn[MONITOR_ALERTS])
    [workspace_sid] = emulator.taskrouter.events[DEFAULT_ACCOUNT_SID]
    emulator.taskrouter.events[DEFAULT_ACCOUNT_SID][workspace_sid].extend(drawn[TASKROUTER_EVENTS])
    [environment] = [key for key in emulator.serverless.logs if key[0] == DEFAULT_ACCOUNT_SID]
    emulator.serverless.logs[environment] = SortedRecords("date_created", milliseconds=True)  # only these
    emulator.serverless.logs[environment].extend(drawn[SERVERLESS_LOGS])
    for event in drawn[TELNYX_AUDIT_EVENTS]:
        emulator.telnyx.events[DEFAULT_ORGANIZATION].add(event)
    return workspace_sid


def _expected(stream: str, name: str, drawn: t.Any, workspace_sid: str) -> t.Any:
    """A value as the tap documents that it emits it."""
    sent = json.loads(json.dumps(drawn))  # what the JSON on the wire says (two escaped halves: one character)
    if name in DATE_TIME_FIELDS[stream] and sent:
        return canonical(sent, STREAM_SPECS[stream].digits)
    if stream == TASKROUTER_EVENTS and name == "workspace_sid" and not sent:
        return workspace_sid  # the partition's, where the API leaves it out
    if stream == TASKROUTER_EVENTS and name == "event_data" and isinstance(sent, dict):
        parsed = dict(sent)
        for field in ("task_attributes", "worker_attributes"):
            if isinstance(parsed.get(field), str):
                try:
                    value = json.loads(parsed[field])
                except ValueError:
                    continue
                if isinstance(value, dict):
                    parsed[field] = value
        return parsed
    return sent


@settings(
    max_examples=EXAMPLES,
    derandomize=not ON_DEMAND,
    # Shrinking re-runs the tap hundreds of times: on demand only (a CI failure shows its whole example).
    phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if ON_DEMAND else [])],
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(data=st.data())
def test_every_answer_the_specs_allow_is_emitted_once_with_its_values(data):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    low, high = now - dt.timedelta(days=2), now - dt.timedelta(minutes=5)
    drawn = {
        stream: data.draw(records(stream, low, high, data.draw(st.integers(1, 8), label=f"{stream} count")), stream)
        for stream in STREAMS
    }
    sizes: dict[str, t.Any] = {
        "monitor_events": 0,
        "monitor_alerts": 0,
        "taskrouter_workspaces": 1,
        "taskrouter_events": 0,
        "serverless_services": 1,
        "serverless_environments": (1,),
        "telnyx_events": 0,
    }
    with Emulator(now=now, **sizes) as emulator:
        workspace_sid = _serve(emulator, drawn)
        config = emulator.tap_config(start_date=(now - dt.timedelta(days=3)).isoformat(), page_size=5)
        if "catalog" not in _CATALOG:
            _CATALOG["catalog"] = catalog_selecting(config, STREAMS)
            emulator.seen.clear()

        run = run_tap(config, catalog=_CATALOG["catalog"])

        answers = sum(1 for seen in emulator.seen if seen.status == 200)
    assert run.returncode == 0, run.stderr[-5000:]
    assert "Traceback" not in run.stderr
    assert "places them in no time window" not in run.stderr and "is no timestamp" not in run.stderr
    schemas = {message["stream"]: message["schema"] for message in run.messages if message["type"] == "SCHEMA"}
    for stream in STREAMS:
        spec, sent = STREAM_SPECS[stream], drawn[stream]
        emitted = run.records[stream]
        assert_each_once([record[spec.primary_key] for record in emitted])
        by_key = {record[spec.primary_key]: record for record in emitted}
        assert set(by_key) == {item[spec.primary_key] for item in sent}, stream
        validator = jsonschema.Draft7Validator(schemas[stream])
        for item in sent:
            record = by_key[item[spec.primary_key]]
            assert not list(validator.iter_errors(record)), (stream, record)
            properties = schemas[stream]["properties"]
            assert set(record) <= set(properties), (stream, set(record) - set(properties))
            for name in set(item) & set(properties):
                assert record[name] == _expected(stream, name, item[name], workspace_sid), (stream, name)
    FIGURES["examples"] += 1
    FIGURES["answers"] += answers
    FIGURES["records"] += sum(len(run.records[stream]) for stream in STREAMS)
    print(f"spec answers so far: {FIGURES}")
