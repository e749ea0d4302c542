"""List items generated from the vendors' OpenAPI schemas (../shared/api-specs/), for property tests.

`item_strategy(stream, ...)` draws records the spec allows, with what the spec leaves open pushed to
its edges: every nullable field sometimes null, unknown extra fields, empty and very long strings,
text from every Unicode plane including lone surrogates (sent escaped: `"\\ud800"`), any JSON under
`event_data` / `changes`, and every timestamp form RFC 3339 allows (fractions of any length, any
offset, lower-case `t`/`z`). The primary key is made unique and the replication key falls inside
the run's range, so that each record has exactly one place to be emitted from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t
from pathlib import Path

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from scripts.schemas_from_openapi import spec_directory

#: The vendors' OpenAPI documents; without them the property tests fail (as the spec conformance test does in CI).
SPECS = spec_directory() or Path("shared", "api-specs")


class StreamSpec(t.NamedTuple):
    spec_file: str
    component: str
    primary_key: str
    replication_key: str
    #: Fraction digits the tap keeps (timestamps.Precision): 0, 3 or 6.
    digits: int


STREAM_SPECS = {
    "twilio_monitor_events": StreamSpec("twilio_monitor_v1.json", "monitor.v1.event", "sid", "event_date", 0),
    "twilio_monitor_alerts": StreamSpec("twilio_monitor_v1.json", "monitor.v1.alert", "sid", "date_created", 0),
    "twilio_taskrouter_events": StreamSpec(
        "twilio_taskrouter_v1.json", "taskrouter.v1.workspace.event", "sid", "event_date", 0
    ),
    "twilio_serverless_logs": StreamSpec(
        "twilio_serverless_v1.json", "serverless.v1.service.environment.log", "sid", "date_created", 3
    ),
    "telnyx_audit_events": StreamSpec("telnyx_audit_events_extract.json", "AuditLog", "id", "created_at", 3),
}
#: Keywords of the OpenAPI documents that are documentation, or formats no generator knows.
_DOCUMENTATION = {"description", "example", "examples", "title", "x-twilio", "nullable"}
_KNOWN_FORMATS = {"uuid"}
#: Where other timestamps than the replication key fall.
ANY_TIME = (dt.datetime(2001, 1, 1, tzinfo=dt.UTC), dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
#: JSON integers the tap keeps exactly: orjson reads a larger one as a float (README, "Reliability").
_INT64 = (-(2**63), 2**63 - 1)

_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(*_INT64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
ANY_JSON = st.recursive(
    _JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
#: Text at the edges: empty, very long, every plane, lone surrogates.
EDGE_TEXT = st.one_of(
    st.just(""),
    st.text(alphabet=st.characters(codec=None, categories=None), max_size=40),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3),
    st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=8), st.integers(2_000, 12_000)),
)


def spec_schema(spec: StreamSpec) -> dict[str, t.Any]:
    """The component as JSON Schema: `$ref` resolved, `nullable` as a null type, documentation out."""
    document = json.loads((SPECS / spec.spec_file).read_text())
    components = document["components"]["schemas"]
    return t.cast("dict[str, t.Any]", _to_json_schema(components[spec.component], components))


def _to_json_schema(node: t.Any, components: dict[str, t.Any]) -> t.Any:
    if isinstance(node, list):
        return [_to_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _to_json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    result = {key: _to_json_schema(value, components) for key, value in node.items() if key not in _DOCUMENTATION}
    if result.get("format") not in _KNOWN_FORMATS:
        result.pop("format", None)
    if node.get("nullable") and "type" in result:
        types = result["type"] if isinstance(result["type"], list) else [result["type"]]
        result["type"] = [*types, "null"] if "null" not in types else types
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    if result.get("type") == "integer" or (isinstance(result.get("type"), list) and "integer" in result["type"]):
        result.setdefault("minimum", _INT64[0])
        result.setdefault("maximum", _INT64[1])
    return result


def timestamp_text(instant: dt.datetime, *, offset_minutes: int, digits: int, lower: bool) -> str:
    """`instant` as RFC 3339 text: in the offset given, with `digits` fraction digits (cut, not
    rounded: the text names an instant at most that much earlier)."""
    local = instant.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}"[:digits].ljust(digits, "0")
    if offset_minutes == 0 and not lower:
        text += "Z"
    elif offset_minutes == 0:
        text += "z"
    else:
        sign = "+" if offset_minutes > 0 else "-"
        hours, minutes = divmod(abs(offset_minutes), 60)
        text += f"{sign}{hours:02d}:{minutes:02d}"
    return text.replace("T", "t") if lower else text


@st.composite
def timestamps(draw: st.DrawFn, low: dt.datetime, high: dt.datetime) -> str:
    """Any RFC 3339 form of an instant in [low, high)."""
    span = int((high - low) / dt.timedelta(microseconds=1))
    instant = low + dt.timedelta(microseconds=draw(st.integers(0, span - 1)))
    return timestamp_text(
        instant,
        offset_minutes=draw(st.sampled_from([0, 0, 60, -300, 330, 345, -570, 840, -720])),
        digits=draw(st.sampled_from([0, 0, 1, 3, 6, 9])) if instant.microsecond else 0,
        lower=draw(st.booleans()),
    )


_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))")


def instant_of(text: str) -> dt.datetime:
    """The instant RFC 3339 text names (parsed here, not by the tap's code)."""
    match = _RFC3339.fullmatch(text)
    assert match, text
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    offset = dt.timedelta(0)
    if match.group(9):
        offset = dt.timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        offset = offset if match.group(9) == "+" else -offset
    local = dt.datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=dt.timezone(offset))
    return local.astimezone(dt.UTC)


def canonical(text: str, digits: int) -> str:
    """What the tap emits for a timestamp: UTC, `Z`, `digits` fraction digits (cut)."""
    instant = instant_of(text)
    fraction = f".{instant.microsecond:06d}"[: digits + 1] if digits else ""
    return f"{instant:%Y-%m-%dT%H:%M:%S}{fraction}Z"


@st.composite
def records(draw: st.DrawFn, stream: str, low: dt.datetime, high: dt.datetime, count: int) -> list[dict[str, t.Any]]:
    """`count` list items of `stream` the spec allows, each with a unique primary key and a
    replication key in [low, high)."""
    spec = STREAM_SPECS[stream]
    schema = spec_schema(spec)
    properties = schema["properties"]
    spec_strategy = from_schema({**schema, "additionalProperties": False})
    items = []
    for number in range(count):
        item: dict[str, t.Any] = t.cast("dict[str, t.Any]", draw(spec_strategy))
        for name, field in properties.items():
            if "string" in _types(field) and not {"pattern", "enum", "format"} & set(field) and draw(st.booleans()):
                item[name] = draw(EDGE_TEXT)
        for name in _date_time_fields(spec):
            if name in item and item[name] is not None:
                item[name] = draw(timestamps(ANY_TIME[0], ANY_TIME[1]))
        item[spec.replication_key] = draw(timestamps(low, high))
        item[spec.primary_key] = _unique_key(stream, number, draw(st.integers(0, 2**32)))
        if "event_data" in properties:
            item["event_data"] = draw(_event_data(stream))
        if stream == "twilio_taskrouter_events":
            instant = instant_of(item["event_date"])
            item["event_date_ms"] = (instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
        unknown = st.text(min_size=1, max_size=10).filter(lambda key: key not in properties)
        extra: dict[str, t.Any] = draw(st.dictionaries(unknown, ANY_JSON, max_size=2))
        items.append({**extra, **item})
    return items


def _types(field: dict[str, t.Any]) -> list[str]:
    types = field.get("type", [])
    return types if isinstance(types, list) else [types]


def _date_time_fields(spec: StreamSpec) -> list[str]:
    document = json.loads((SPECS / spec.spec_file).read_text())
    properties = document["components"]["schemas"][spec.component]["properties"]
    return [name for name, field in properties.items() if field.get("format") == "date-time"]


def _unique_key(stream: str, number: int, salt: int) -> str:
    if stream == "telnyx_audit_events":
        return f"{salt:08x}-0000-4000-8000-{number:012x}"
    prefix = {
        "twilio_monitor_events": "AE",
        "twilio_monitor_alerts": "NO",
        "twilio_taskrouter_events": "EV",
        "twilio_serverless_logs": "NO",
    }[stream]
    return f"{prefix}{salt:08x}{number:024x}"


def _event_data(stream: str) -> st.SearchStrategy[t.Any]:
    """Any object (or null): the tap's schema keeps `event_data` an object (the specs leave it untyped)."""
    objects = st.dictionaries(st.text(max_size=12), ANY_JSON, max_size=5)
    if stream != "twilio_taskrouter_events":
        return st.none() | objects
    # TaskRouter sends the task's and worker's attributes as JSON text (an object, or anything else).
    attributes = st.one_of(
        st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=4).map(lambda value: json.dumps(value)),
        EDGE_TEXT,
        st.none(),
    )
    return st.none() | st.builds(
        lambda base, task, worker: {**base, "task_attributes": task, "worker_attributes": worker},
        objects,
        attributes,
        attributes,
    )
