"""Twilio TaskRouter: the account's workspaces, and each workspace's events."""

from __future__ import annotations

import datetime as dt
import typing as t

import orjson
from singer_sdk import Stream

from tap_events.client import TimeWindowStream, TwilioStream
from tap_events.timestamps import format_timestamp

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

#: Fields of `event_data` that TaskRouter sends as JSON text; the tap parses them into objects.
JSON_STRING_FIELDS = ("task_attributes", "worker_attributes")
#: Twilio redacts task attributes of events older than 43,200 minutes.
ATTRIBUTE_REDACTION_AGE = dt.timedelta(minutes=43_200)


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


class TaskRouterWorkspacesStream(TaskRouterStream):
    """Every workspace of the account, or only those named in `twilio_workspace_sids`.

    Also the parent of the events stream: each workspace it lists is one partition there.
    """

    name = "twilio_taskrouter_workspaces"
    path = "/v1/Workspaces"
    records_key = "workspaces"
    primary_keys = ("sid",)
    replication_key = None
    timestamp_fields = ("date_created", "date_updated")

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"PageSize": self.config["page_size"]}

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: set[str] = set()
        self._accounts_listed: set[str] = set()

    def wanted_sids(self) -> dict[str, str] | None:
        """The configured workspace SIDs by their lower-case form (SIDs' hex is not case-sensitive)."""
        configured = self.config.get("twilio_workspace_sids") or []
        return {str(sid).lower(): str(sid) for sid in configured} or None

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        wanted = self.wanted_sids()
        for record in super().get_records(context):
            sid = str(record.get("sid") or "").lower()
            self._listed.add(sid)
            if wanted is None or sid in wanted:
                yield record
        self._accounts_listed.add((context or {}).get("account_sid", ""))
        if wanted is not None and self._accounts_listed >= set(self.accounts):
            # Every account was listed: a configured SID none of them has is worth a warning.
            missing = sorted(original for lowered, original in wanted.items() if lowered not in self._listed)
            if missing:
                self.logger.warning(
                    "%s: twilio_workspace_sids names workspaces that no configured account lists "
                    "(deleted, or of another account), skipped: %s",
                    self.name,
                    ", ".join(missing),
                )

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {**(context or {}), "workspace_sid": record["sid"]}


class TaskRouterEventsStream(TaskRouterStream, TimeWindowStream):
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
    # Kept 30 days; older task attributes are redacted. A longer backfill warns, it does not fail.
    retention = dt.timedelta(days=30)
    clamp_to_retention = False

    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        """[start, end) as whole seconds that cover it: StartDate rounded down, EndDate (inclusive)
        rounded up to the window's end itself. Whether Twilio compares EndDate to the second or
        to the millisecond is not documented, so the end's own second is asked for too and the
        records at or after `end` are dropped by `get_records`: nothing of the window's last
        second can be missed either way."""
        last = end if end.microsecond == 0 else end.replace(microsecond=0) + dt.timedelta(seconds=1)
        return {"StartDate": strict_timestamp(start.replace(microsecond=0)), "EndDate": strict_timestamp(last)}

    def sync_start(self, context: Context | None) -> dt.datetime:
        start = super().sync_start(context)
        if start < self.run_started_at - ATTRIBUTE_REDACTION_AGE:
            self.logger.warning(
                "%s: Twilio redacts the task attributes of events older than 43,200 minutes "
                "(30 days); events before %s may come without them",
                self.name,
                strict_timestamp(self.run_started_at - ATTRIBUTE_REDACTION_AGE),
            )
        return start

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


STREAMS: list[type[Stream]] = [TaskRouterWorkspacesStream, TaskRouterEventsStream]
