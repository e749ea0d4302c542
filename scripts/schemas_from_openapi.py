"""Regenerate tap_events/schemas/*.json from the vendors' OpenAPI documents.

    python scripts/schemas_from_openapi.py [../shared/api-specs]

Without an argument the specs are found by `spec_directory`. Each stream names its spec file and
component; `FIXES` lists where the specs are wrong or too strict for a loader (a pattern or length
that real data breaks, an enum that will grow).
"""

from __future__ import annotations

import json
import os
import sys
import typing as t
from pathlib import Path


def _attributes(who: str) -> dict[str, t.Any]:
    return {
        "type": ["object", "string", "null"],
        "additionalProperties": True,
        "description": f"The {who}'s attributes. TaskRouter sends them as JSON text; the tap parses them into "
        "an object, and keeps the original text when it is not a JSON object.",
    }


# stream name -> (spec file, component schema name, properties the tap adds or changes)
STREAMS: dict[str, tuple[str, str, dict[str, t.Any]]] = {
    "twilio_monitor_events": ("twilio_monitor_v1.json", "monitor.v1.event", {}),
    "twilio_monitor_alerts": ("twilio_monitor_v1.json", "monitor.v1.alert", {}),
    "twilio_taskrouter_workspaces": ("twilio_taskrouter_v1.json", "taskrouter.v1.workspace", {}),
    "twilio_taskrouter_events": (
        "twilio_taskrouter_v1.json",
        "taskrouter.v1.workspace.event",
        {
            "event_data": {
                "type": ["object", "null"],
                "additionalProperties": True,
                "properties": {"task_attributes": _attributes("task"), "worker_attributes": _attributes("worker")},
            }
        },
    ),
    "twilio_serverless_services": ("twilio_serverless_v1.json", "serverless.v1.service", {}),
    "twilio_serverless_environments": ("twilio_serverless_v1.json", "serverless.v1.service.environment", {}),
    "twilio_serverless_logs": ("twilio_serverless_v1.json", "serverless.v1.service.environment.log", {}),
    "telnyx_audit_events": ("telnyx_audit_events_extract.json", "AuditLog", {}),
}
# Constraints dropped everywhere: documentation in the spec, but a loader would enforce them
# (e.g. VARCHAR(34) from maxLength) and the spec gets some wrong (actor_sid may be an AC sid).
DROPPED_KEYWORDS = {
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "description",
    "example",
    "examples",
    "title",
    "x-twilio",
}
# Untyped "any JSON" fields in the spec that are objects in practice.
FIXES: dict[str, dict[str, t.Any]] = {
    "event_data": {"type": ["object", "null"], "additionalProperties": True},
}


def to_json_schema(node: t.Any, components: dict[str, t.Any]) -> t.Any:
    if isinstance(node, list):
        return [to_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    if "anyOf" in node or "oneOf" in node:
        # A union of JSON types (Telnyx `changes[].from`/`to`): any JSON value. Spelled out,
        # because the SDK cannot conform a list against an empty schema.
        return {"type": ["string", "number", "boolean", "object", "array", "null"]}
    result: dict[str, t.Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYWORDS or key == "nullable":
            continue
        if key == "format" and value not in ("date-time", "date"):
            continue
        if key == "properties":
            result[key] = {name: FIXES.get(name) or to_json_schema(prop, components) for name, prop in value.items()}
        else:
            result[key] = to_json_schema(value, components)
    kind = result.get("type")
    if isinstance(kind, str) and kind != "null":
        result["type"] = [kind, "null"]
    elif kind is None and "properties" not in node:
        result = {}  # any JSON value
    return result


#: Overrides where the vendors' OpenAPI documents are.
SPECS_ENV = "TAP_EVENTS_API_SPECS"


def spec_directory() -> Path | None:
    """The folder of the vendors' OpenAPI documents: `$TAP_EVENTS_API_SPECS`, else `shared/api-specs`
    next to the project or next to a folder above it (a CI clone has `shared/` as its sibling; a git
    worktree may live a level deeper). None when there is none."""
    configured = os.environ.get(SPECS_ENV)
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents[1:]:
        candidate = parent / "shared" / "api-specs"
        if candidate.is_dir():
            return candidate
    return None


def main(spec_dir: Path, out_dir: Path) -> None:
    for stream, (spec_file, component, extra) in STREAMS.items():
        spec = json.loads((spec_dir / spec_file).read_text())
        components = spec["components"]["schemas"]
        schema = to_json_schema(components[component], components)
        schema["type"] = "object"
        schema["properties"].update(extra)
        (out_dir / f"{stream}.json").write_text(json.dumps(schema, indent=2) + "\n")
        print(f"wrote {out_dir / (stream + '.json')}")


if __name__ == "__main__":
    found = Path(sys.argv[1]) if len(sys.argv) > 1 else spec_directory()
    if found is None:
        sys.exit(f"No OpenAPI specs found: pass their folder, or set {SPECS_ENV}.")
    main(found, Path(__file__).resolve().parent.parent / "tap_events" / "schemas")
