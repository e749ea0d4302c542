"""What the pinned OCSF schema says of the events transform/models/ocsf builds: their classes, how a
document is validated (the `ocsf-json-schema` package's compiled schema, with `jsonschema`), and
the Parquet (Arrow) type of each attribute, from OCSF's own types.

One version for everything: Amazon Security Lake documents OCSF 1.1 for custom sources, so the
models, the validation and the export all use 1.1.0 (`transform/macros/ocsf.sql` says it too).
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

import pyarrow as pa

OCSF_VERSION = "1.1.0"


@dataclass(frozen=True)
class OcsfClass:
    """One OCSF class the project emits: its dbt model, file name and Security Lake source."""

    uid: int
    name: str  # the schema's name, e.g. api_activity
    caption: str
    model: str

    @property
    def source(self) -> str:
        """The Security Lake custom source that holds this class (one class per source)."""
        return "tap-events-" + self.name.replace("_", "-")


CLASSES = (
    OcsfClass(6003, "api_activity", "API Activity", "ocsf_api_activity"),
    OcsfClass(3002, "authentication", "Authentication", "ocsf_authentication"),
    OcsfClass(3001, "account_change", "Account Change", "ocsf_account_change"),
    OcsfClass(2004, "detection_finding", "Detection Finding", "ocsf_detection_finding"),
)


def drop_nulls(value: t.Any) -> t.Any:
    """`value` without null members, as OCSF (which has no null) and the package's schemas expect."""
    if isinstance(value, dict):
        return {key: drop_nulls(member) for key, member in value.items() if member is not None}
    if isinstance(value, list):
        return [drop_nulls(member) for member in value if member is not None]
    return value


@functools.cache
def dictionary() -> dict[str, t.Any]:
    """The compiled OCSF schema of the pinned version, bundled with `ocsf-json-schema`."""
    from ocsf_json_schema import get_ocsf_schema

    return t.cast(dict[str, t.Any], get_ocsf_schema(version=OCSF_VERSION))


@functools.cache
def _class_schema(class_name: str, profiles: tuple[str, ...]) -> dict[str, t.Any]:
    from ocsf_json_schema import OcsfJsonSchemaEmbedded

    return t.cast(
        dict[str, t.Any], OcsfJsonSchemaEmbedded(dictionary()).get_class_schema(class_name, profiles=list(profiles))
    )


def type_uid_problem(event: dict[str, t.Any]) -> str | None:
    """The check the JSON schema cannot make: `type_uid = class_uid * 100 + activity_id`."""
    expected = event.get("class_uid", 0) * 100 + event.get("activity_id", 0)
    if event.get("type_uid") != expected:
        return f"type_uid {event.get('type_uid')} is not class_uid * 100 + activity_id ({expected})"
    return None


def problems(event: dict[str, t.Any]) -> list[str]:
    """Why `event` (nulls already dropped) is not a valid event of its class with the profiles it
    declares in `metadata.profiles`; [] when it is."""
    import jsonschema

    found = [problem for problem in [type_uid_problem(event)] if problem]
    try:
        class_name = OCSF_CLASS_NAMES[event["class_uid"]]
    except KeyError:
        return [*found, f"class_uid {event.get('class_uid')!r} is not a class of this project"]
    profiles = tuple(sorted(event.get("metadata", {}).get("profiles", [])))
    validator = jsonschema.Draft202012Validator(_class_schema(class_name, profiles))
    for error in validator.iter_errors(event):
        found.append(f"{'/'.join(map(str, error.absolute_path)) or '(event)'}: {error.message}")
    return found


OCSF_CLASS_NAMES = {each.uid: each.name for each in CLASSES}


# ---- Parquet: each attribute as the Arrow type of its OCSF type ------------------------------

#: OCSF's base types and their Arrow types: long_t (so timestamp_t) is 64-bit, integer_t 32-bit.
BASE_TYPES = {
    "boolean_t": pa.bool_(),
    "integer_t": pa.int32(),
    "long_t": pa.int64(),
    "float_t": pa.float64(),
    "string_t": pa.string(),
}
#: An OCSF `object` (e.g. `unmapped`): free-form, so a map of JSON texts, as Security Lake keeps it.
FREE_FORM = pa.map_(pa.string(), pa.string())


def _base_type(type_name: str) -> str:
    """The base type an OCSF scalar type is made of (timestamp_t -> long_t, ip_t -> string_t)."""
    types = dictionary()["types"]
    while type_name not in BASE_TYPES and type_name != "json_t":
        type_name = types[type_name]["type"]
    return type_name


def _attributes(kind: str, name: str) -> dict[str, t.Any]:
    if kind == "class":
        return t.cast(dict[str, t.Any], dictionary()["classes"][name]["attributes"])
    return t.cast(dict[str, t.Any], dictionary()["objects"][name]["attributes"])


def arrow_type(attribute: dict[str, t.Any], values: list[t.Any]) -> pa.DataType:
    """The Arrow type of one OCSF attribute, for the `values` it has in a batch (an object's struct
    holds the members that occur in them, each typed by OCSF)."""
    if attribute.get("is_array"):
        items = [item for value in values for item in value]
        return pa.list_(arrow_type({**attribute, "is_array": False}, items))
    if attribute["type"] == "object_t":
        if attribute["object_type"] == "object":
            return FREE_FORM
        return struct_type("object", attribute["object_type"], values)
    base = _base_type(attribute["type"])
    return pa.string() if base == "json_t" else BASE_TYPES[base]


def struct_type(kind: str, name: str, values: list[dict[str, t.Any]]) -> pa.StructType:
    """The struct of a class or object: the members present in `values`, in OCSF's order."""
    attributes = _attributes(kind, name)
    present = {key for value in values for key in value}
    unknown = present - set(attributes)
    if unknown:
        raise ValueError(f"{name} has no attribute {', '.join(sorted(unknown))} in OCSF {OCSF_VERSION}")
    return pa.struct(
        [
            pa.field(key, arrow_type(attribute, [value[key] for value in values if key in value]))
            for key, attribute in attributes.items()
            if key in present
        ]
    )


def arrow_ready(value: t.Any, data_type: pa.DataType) -> t.Any:
    """`value` as pyarrow takes it for `data_type`: JSON values (json_t) and free-form members as
    JSON text, free-form objects as (key, value) pairs."""
    import json

    if data_type == FREE_FORM:
        return [(key, member if isinstance(member, str) else json.dumps(member)) for key, member in value.items()]
    if pa.types.is_struct(data_type):
        return {field.name: arrow_ready(value[field.name], field.type) for field in data_type if field.name in value}
    if pa.types.is_list(data_type):
        return [arrow_ready(item, data_type.value_type) for item in value]
    if pa.types.is_string(data_type) and not isinstance(value, str):
        return json.dumps(value)
    return value


def arrow_schema(ocsf_class: OcsfClass, events: list[dict[str, t.Any]]) -> pa.Schema:
    """The Parquet schema of a class: every attribute `events` (nulls dropped) have, typed by OCSF."""
    return pa.schema(list(struct_type("class", ocsf_class.name, events)))


def arrow_table(ocsf_class: OcsfClass, events: list[dict[str, t.Any]], schema: pa.Schema | None = None) -> pa.Table:
    """`events` of one class (nulls dropped) as an Arrow table typed by OCSF, in `schema` (made of a
    wider set of events, so that every file of a run has the same columns) or their own."""
    schema = schema or arrow_schema(ocsf_class, events)
    rows = [arrow_ready(event, pa.struct(list(schema))) for event in events]
    return pa.Table.from_pylist(rows, schema=schema)
