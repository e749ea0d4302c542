"""Twilio TaskRouter: the account's workspaces, and each workspace's events."""

from __future__ import annotations

import datetime as dt
import typing as t

import orjson
from typing_extensions import override

from tap_events.timestamps import ceil_second, floor_second, format_timestamp
from tap_events.twilio import TwilioListStream, TwilioStream
from tap_events.windows import UnsortedWindowStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_events.client import TapEventsStream

#: Fields of `event_data` that TaskRouter sends as JSON text; the tap parses them into objects.
JSON_STRING_FIELDS = ("task_attributes", "worker_attributes")


def strict_timestamp(value: dt.datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ssZ`, the only form TaskRouter accepts (fractions or offsets are a 400)."""
    return format_timestamp(value, "seconds")


def parse_json_object(text: str) -> dict[str, t.Any] | str:
    """The JSON object `text` holds, or `text` itself when it is not a JSON object."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    return value if isinstance(value, dict) else text


class TaskRouterStream(TwilioStream):
    base_url_setting = "twilio_taskrouter_base_url"


class TaskRouterWorkspacesStream(TaskRouterStream, TwilioListStream):
    """Every workspace of the account, or only those named in `twilio_workspace_sids`.

    Also the parent of the events stream: each workspace it lists is one partition there.
    """

    name = "twilio_taskrouter_workspaces"
    path = "/v1/Workspaces"
    records_key = "workspaces"
    primary_keys = ("sid",)
    replication_key = None
    timestamp_fields = ("date_created", "date_updated")
    sids_setting = "twilio_workspace_sids"

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {**(context or {}), "workspace_sid": record["sid"]}


class TaskRouterEventsStream(TaskRouterStream, UnsortedWindowStream):
    """Each workspace's events, with one bookmark per workspace.

    Without `StartDate` the API answers only the last 15 minutes, so every request carries
    `StartDate` and `EndDate` in the strict `yyyy-MM-ddTHH:mm:ssZ` form. `event_date` has second
    precision while bursts share a second: a window starts at the bookmark's own second
    (inclusive), so the events of that second are read again rather than lost.
    """

    name = "twilio_taskrouter_events"
    parent_stream_type = TaskRouterWorkspacesStream
    path = "/v1/Workspaces/{workspace_sid}/Events"
    records_key = "events"
    primary_keys = ("sid",)
    replication_key = "event_date"
    timestamp_fields = ("event_date",)
    partition_path_keys = ("workspace_sid",)
    window_size = dt.timedelta(days=1)
    splits_busy_windows = True
    # Since 2021-11-30 a query reaching more than 30 days back is refused (HTTP 400): windows
    # start inside the 30 days, so task attributes (redacted after 43,200 minutes) are never redacted.
    retention = dt.timedelta(days=30)
    clamp_to_retention = True

    @override
    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        """[start, end) as whole seconds that cover it: StartDate rounded down, EndDate (inclusive)
        rounded up to the window's end itself. Whether Twilio compares EndDate to the second or
        to the millisecond is not documented, so the end's own second is asked for too and the
        records at or after `end` are dropped by `get_records`: nothing of the window's last
        second can be missed either way."""
        return {"StartDate": strict_timestamp(floor_second(start)), "EndDate": strict_timestamp(ceil_second(end))}

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        processed = super().post_process(row, context)
        if processed is None:
            return None
        if context and not processed.get("workspace_sid"):
            processed["workspace_sid"] = context["workspace_sid"]
        event_data = processed.get("event_data")
        if isinstance(event_data, dict):
            for field in JSON_STRING_FIELDS:
                value = event_data.get(field)
                if isinstance(value, str):
                    event_data[field] = parse_json_object(value)
        return processed


STREAMS: list[type[TapEventsStream]] = [TaskRouterWorkspacesStream, TaskRouterEventsStream]
