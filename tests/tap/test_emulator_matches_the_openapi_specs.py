"""Every list answer of the emulator, first and later pages, is valid against the vendor's OpenAPI
response schema, formats included: a fake kinder than the real API hides bugs, and this keeps the
emulator from drifting from the specs. Error answers too, where a spec describes them (Telnyx's;
Twilio's specs describe only the 200)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY
from scripts.schemas_from_openapi import SPECS_ENV, spec_directory
from tests.serverless_helpers import environments
from tests.taskrouter_helpers import workspace_sids

#: Where a spec is wrong about the real API, and the emulator follows the API: (spec path, the
#: keyword's place in the response schema) -> the value used instead.
ERRATA: dict[tuple[str, tuple[str, ...]], t.Any] = {
    # An action through the API is done by the account (or an API key's account): `AC…`, not only
    # a user `US…` (also noted in scripts/schemas_from_openapi.py).
    ("/v1/Events", ("properties", "events", "items", "properties", "actor_sid", "pattern")): "^(US|AC)[0-9a-fA-F]{32}$",
}
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def is_uri(value: object) -> bool:
    """An absolute URL (jsonschema checks `uri` only with an optional package installed)."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@FORMATS.checks("date-time")
def is_date_time(value: object) -> bool:
    """RFC 3339, as the specs mean it."""
    return not isinstance(value, str) or bool(DATE_TIME.fullmatch(value))


@pytest.fixture(scope="module")
def specs() -> Path:
    found = spec_directory()
    if found is None or not found.is_dir():
        message = f"the OpenAPI specs (shared/api-specs next to the project, or ${SPECS_ENV}) are missing"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def json_schema(node: t.Any, document: dict[str, t.Any], depth: int = 0) -> t.Any:
    """An OpenAPI schema as plain JSON Schema: `$ref`s inlined, OpenAPI 3.0's `nullable` as a null type."""
    assert depth < 50, "a $ref cycle"
    if isinstance(node, list):
        return [json_schema(item, document, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: t.Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return json_schema(target, document, depth + 1)
    result = {key: json_schema(value, document, depth) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if isinstance(result.get("type"), str):
            result["type"] = [result["type"], "null"]
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    return result


def response_schema(specs: Path, spec_file: str, path: str, status: str = "200") -> dict[str, t.Any]:
    document = json.loads((specs / spec_file).read_text())
    response = json_schema(document["paths"][path]["get"]["responses"][status], document)
    schema = t.cast("dict[str, t.Any]", response["content"]["application/json"]["schema"])
    for (erratum_path, (*parents, keyword)), value in ERRATA.items():
        if erratum_path == path:
            node = schema
            for name in parents:
                node = node[name]
            assert keyword in node, f"erratum {keyword} of {path} no longer applies"
            node[keyword] = value
    return schema


def assert_valid(answer: requests.Response, schema: dict[str, t.Any], status: int = 200) -> None:
    assert answer.status_code == status, answer.text
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(answer.json())
    ]
    assert not errors, f"{answer.url}:\n" + "\n".join(errors[:20])


def twilio_pages(url: str, params: dict[str, str]) -> list[requests.Response]:
    """Every record on one page; then a page of one record and the pages its `meta` links to:
    next, then that page's previous."""
    auth = (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    first = requests.get(url, params={**params, "PageSize": "1"}, auth=auth, timeout=10)
    pages = [requests.get(url, params={**params, "PageSize": "1000"}, auth=auth, timeout=10), first]
    next_page_url = first.json()["meta"]["next_page_url"]
    if next_page_url:
        second = requests.get(next_page_url, auth=auth, timeout=10)
        pages += [second, requests.get(second.json()["meta"]["previous_page_url"], auth=auth, timeout=10)]
    return pages


def twilio_lists(emulator) -> list[tuple[str, str, str, dict[str, str]]]:
    """(spec file, spec path, emulator URL, query) of every Twilio list the tap reads."""
    base = emulator.base_url
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")
    workspace = workspace_sids(emulator)[0]
    environment = environments(emulator)[0]
    service_path = f"/v1/Services/{environment['service_sid']}"
    return [
        ("twilio_monitor_v1.json", "/v1/Events", f"{base}/v1/Events", {}),
        ("twilio_monitor_v1.json", "/v1/Alerts", f"{base}/v1/Alerts", {}),
        ("twilio_taskrouter_v1.json", "/v1/Workspaces", f"{base}/v1/Workspaces", {}),
        (
            "twilio_taskrouter_v1.json",
            "/v1/Workspaces/{WorkspaceSid}/Events",
            f"{base}/v1/Workspaces/{workspace}/Events",
            {"StartDate": recent},
        ),
        ("twilio_serverless_v1.json", "/v1/Services", f"{base}/v1/Services", {}),
        (
            "twilio_serverless_v1.json",
            "/v1/Services/{ServiceSid}/Environments",
            f"{base}{service_path}/Environments",
            {},
        ),
        (
            "twilio_serverless_v1.json",
            "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Logs",
            f"{base}{service_path}/Environments/{environment['sid']}/Logs",
            {"StartDate": recent},
        ),
    ]


def test_every_twilio_list_answer_is_valid_against_its_spec(emulator, specs):
    checked = 0
    for spec_file, spec_path, url, params in twilio_lists(emulator):
        schema = response_schema(specs, spec_file, spec_path)
        pages = twilio_pages(url, params)
        assert len(pages) == 4, f"{url} has more than one page, so that its links are checked too"
        for page in pages:
            assert_valid(page, schema)
            checked += 1
    assert checked == 4 * 7


def test_every_telnyx_audit_events_page_is_valid_against_its_spec(emulator, specs):
    schema = response_schema(specs, "telnyx_audit_events_extract.json", "/audit_events")
    headers = {"Authorization": f"Bearer {DEFAULT_TELNYX_API_KEY}"}

    for number in ("1", "2", "99"):  # a page past the last one too
        params = {"page[number]": number, "page[size]": "50", "sort": "asc"}
        assert_valid(
            requests.get(f"{emulator.base_url}/v2/audit_events", params=params, headers=headers, timeout=10), schema
        )


def test_telnyx_error_answers_are_valid_against_its_spec(emulator, specs):
    schema = response_schema(specs, "telnyx_audit_events_extract.json", "/audit_events", "default")
    url = f"{emulator.base_url}/v2/audit_events"
    headers = {"Authorization": f"Bearer {DEFAULT_TELNYX_API_KEY}"}
    emulator.telnyx_rate_limit = (1, 60)  # the 400 takes it, the next request is over it

    assert_valid(requests.get(url, headers={"Authorization": "Bearer KEYunknown"}, timeout=10), schema, 401)
    assert_valid(requests.get(url, params={"sort": "sideways"}, headers=headers, timeout=10), schema, 400)
    assert_valid(requests.get(url, headers=headers, timeout=10), schema, 429)
