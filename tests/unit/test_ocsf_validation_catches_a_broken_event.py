"""The OCSF check the suite relies on (scripts/ocsf_schema.py: the `ocsf-json-schema` package's
compiled OCSF 1.1.0 schema with `jsonschema`, plus type_uid = class_uid * 100 + activity_id)
passes a valid event and fails each way an event can be broken."""

from __future__ import annotations

import copy
import typing as t

import pytest

from scripts.ocsf_schema import drop_nulls, problems
from tests.ocsf_samples import API_ACTIVITY


def broken(change: t.Callable[[dict[str, t.Any]], None]) -> dict[str, t.Any]:
    event = copy.deepcopy(API_ACTIVITY)
    change(event)
    return event


def test_a_valid_event_passes():
    assert problems(copy.deepcopy(API_ACTIVITY)) == []


BREAKAGES: dict[str, t.Callable[[dict[str, t.Any]], None]] = {
    "type_uid not class_uid * 100 + activity_id": lambda e: e.update(type_uid=600303),
    "a required object missing (actor)": lambda e: e.pop("actor"),
    "a required attribute missing (metadata.version)": lambda e: e["metadata"].pop("version"),
    "time as text": lambda e: e.update(time="2026-11-15T16:25:23Z"),
    "an attribute the class does not have": lambda e: e.update(changes=[]),
    "an activity_id outside the class's enum": lambda e: e.update(activity_id=7, type_uid=600307),
    "not an IP address": lambda e: e["src_endpoint"].update(ip="not-an-ip"),
    "cloud without the cloud profile declared": lambda e: e["metadata"].update(profiles=["datetime"]),
    "a null left in": lambda e: e.update(message=None),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_event_fails(breakage):
    assert problems(broken(BREAKAGES[breakage]))


def test_nulls_dropped_make_a_null_member_valid():
    assert problems(drop_nulls(broken(BREAKAGES["a null left in"]))) == []
