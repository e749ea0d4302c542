"""A valid OCSF 1.1 API Activity event, as transform/models/ocsf builds one, for the tests that
need an event without a warehouse."""

from __future__ import annotations

import copy
import typing as t

API_ACTIVITY: dict[str, t.Any] = {
    "category_uid": 6,
    "category_name": "Application Activity",
    "class_uid": 6003,
    "class_name": "API Activity",
    "activity_id": 1,
    "activity_name": "Create",
    "type_uid": 600301,
    "type_name": "API Activity: Create",
    "time": 1794759923000,
    "time_dt": "2026-11-15T16:25:23.000000Z",
    "severity_id": 1,
    "severity": "Informational",
    "metadata": {
        "version": "1.1.0",
        "uid": "AE00419cc6e70254853aa728084ea6d23a",
        "product": {"name": "Twilio Monitor Events", "vendor_name": "Twilio"},
        "profiles": ["cloud", "datetime"],
        "log_name": "twilio_monitor_events",
        "log_provider": "tap-events",
        "event_code": "phone-number.created",
        "original_time": "2026-11-15T16:25:23.000000Z",
        "processed_time": 1796545691000,
    },
    "cloud": {"provider": "Twilio", "account": {"uid": "AC0123456789abcdef0123456789abcdef"}},
    "message": "phone-number.created PNd37805a8e9a566a5de09d7670de2f80b",
    "actor": {"user": {"uid": "US0123456789abcdef0123456789abcdef", "type": "user"}},
    "src_endpoint": {"ip": "203.0.113.197", "name": "api"},
    "api": {"operation": "phone-number.created", "service": {"name": "Twilio API"}},
    "resources": [
        {
            "uid": "PNd37805a8e9a566a5de09d7670de2f80b",
            "type": "phone-number",
            "data": {"changes": [{"field": "friendly_name", "from": "old", "to": "new"}]},
        }
    ],
    "unmapped": {"source": "api", "event_data": {"friendly_name": {"previous": "old"}}, "url": "https://example.test"},
}


def api_activity(uid: str = "AE1", time: int = 1794759923000, account: str = "AC1") -> dict[str, t.Any]:
    """A copy of `API_ACTIVITY` with its own uid, time and account."""
    event = copy.deepcopy(API_ACTIVITY)
    event["metadata"]["uid"] = uid
    event["time"] = time
    event["cloud"]["account"]["uid"] = account
    return event
