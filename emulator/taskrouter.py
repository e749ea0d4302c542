"""Twilio TaskRouter: /v1/Workspaces and /v1/Workspaces/{WorkspaceSid}/Events.

What the Events endpoint documents, and this emulator reproduces:

- Without `StartDate` and without `Minutes` only the last 15 minutes are returned; `Minutes=N`
  returns the last N minutes. `StartDate` (inclusive) wins over `Minutes`.
- `StartDate`/`EndDate` are accepted only as `yyyy-MM-ddTHH:mm:ssZ`: fractions, offsets or a
  date alone are answered with HTTP 400 (Twilio error 20001). `EndDate` is inclusive ("on or
  before"), to the second, like `event_date`.
- Newest first, by `event_date_ms`: `event_date` has second precision and bursts of events
  share a second, each with its own `event_date_ms`.
- Paging by cursor only: `meta.next_page_url` carries a `PageToken`; `Page` is "simply for
  client state", so a request with `Page=3` and no `PageToken` gets the first page again.
- Events are kept 30 days (`taskrouter_retention_days`); since 2021-11-30 a StartDate reaching
  further back is refused with HTTP 400 (`retention_answer` "refuse"; "trim" for the older
  behaviour: only the events still kept are served).
- An unknown (or deleted) workspace is a 404 with Twilio error 20404.

Data are kept per account SID (`add_account` adds one). Test hooks: `add_workspace`, `add_events`,
`events_of`, `delete`, `before_events_request` (called with the request and the workspace SID
before each Events request is served), and `next_page_urls` (every next_page_url handed out, to
check that clients follow them as given).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import typing as t

from emulator.http import DEFAULT_ACCOUNT_SID, Request, Response, twilio_error
from emulator.twilio import (
    SortedRecords,
    decode_token,
    new_sid,
    parse_date_param,
    refuse_if_too_old,
    twilio_page,
    twilio_timestamp,
)

if t.TYPE_CHECKING:
    from emulator.server import Emulator

HOST = "https://taskrouter.twilio.com"
WORKSPACE_SID = re.compile(r"^WS[0-9a-fA-F]{32}$")
DEFAULT_MINUTES = 15
#: Query parameters that filter Events, in the order Twilio echoes them in `meta` URLs,
#: with the field each one matches (in `event_data` unless it is a top-level field).
EVENT_FILTERS: dict[str, str] = {
    "TaskQueueSid": "task_queue_sid",
    "WorkerSid": "worker_sid",
    "EventType": "event_type",
    "TaskSid": "task_sid",
    "WorkflowSid": "workflow_sid",
    "ReservationSid": "reservation_sid",
    "TaskChannel": "task_channel_unique_name",
    "Sid": "sid",
}
TOP_LEVEL_FILTER_FIELDS = {"event_type", "sid"}
TASK_EVENTS = ("task.created", "task.updated", "task.canceled", "task.completed", "task-queue.entered")
RESERVATION_EVENTS = ("reservation.created", "reservation.accepted", "reservation.rejected", "reservation.timeout")
WORKER_EVENTS = ("worker.activity.update", "worker.attributes.update")
ACTIVITIES = ("Offline", "Available", "Unavailable", "Break")
CHANNELS = ("default", "voice", "chat", "sms")


class EventRecords(SortedRecords):
    """Events ordered by (`event_date_ms`, sid): the second alone does not order a burst."""

    def __init__(self) -> None:
        super().__init__("event_date_ms")

    def key(self, record: dict[str, t.Any]) -> tuple[str, str]:
        return (ms_key(record["event_date_ms"]), record["sid"])


def ms_key(milliseconds: int) -> str:
    return f"{milliseconds:015d}"


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def epoch_ms(value: dt.datetime) -> int:
    return (value - EPOCH) // dt.timedelta(milliseconds=1)


class TaskRouterAPI:
    name = "taskrouter"

    def __init__(
        self,
        emulator: Emulator,
        *,
        taskrouter_workspaces: int = 3,
        taskrouter_events: int = 80,
        taskrouter_days: int = 29,
        taskrouter_retention_days: int = 30,
        **_: t.Any,
    ) -> None:
        self.emulator = emulator
        self.rng = random.Random(emulator.seed)
        self.retention = dt.timedelta(days=taskrouter_retention_days)
        #: How a StartDate older than `retention` is answered: "refuse" (documented) or "trim".
        self.retention_answer = "refuse"
        #: account SID -> workspaces; account SID -> workspace SID -> events.
        self.workspaces: dict[str, SortedRecords] = {}
        self.events: dict[str, dict[str, EventRecords]] = {}
        self.next_page_urls: list[str] = []
        #: Serve every Events page in random order instead of newest first (the docs name no order).
        self.shuffle_event_pages = False
        self.before_events_request: t.Callable[[Request, str], None] | None = None
        self.sizes = (taskrouter_workspaces, taskrouter_events, taskrouter_days)
        self.add_account(DEFAULT_ACCOUNT_SID)

    def routes(self) -> list[tuple[str, str, t.Callable[..., Response]]]:
        return [
            ("GET", r"/v1/Workspaces", self.list_workspaces),
            ("GET", r"/v1/Workspaces/(?P<workspace_sid>[^/]+)/Events", self.list_events),
        ]

    # ---- data --------------------------------------------------------------------------

    def add_account(self, account_sid: str) -> None:
        """Another account with its own workspaces and events (the default sizes)."""
        self.generate(account_sid, *self.sizes)

    def generate(self, account_sid: str, workspaces: int, events: int, days: int) -> None:
        for _ in range(workspaces):
            self.add_workspace(account_sid, events=events, days=days)

    def add_workspace(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        *,
        events: int = 80,
        days: int = 29,
        friendly_name: str | None = None,
    ) -> dict[str, t.Any]:
        """A workspace with `events` events: most spread over `days` days, in bursts that share
        a second, and a few in the last hour (some inside the default 15 minutes, some not)."""
        rng = self.rng
        sid = new_sid(rng, "WS")
        created = self.emulator.now - dt.timedelta(days=days + 1, seconds=rng.randrange(86400))
        workspace = self.make_workspace(account_sid, sid, created, friendly_name)
        self.workspaces.setdefault(account_sid, SortedRecords("date_created")).add(workspace)
        store = self.events.setdefault(account_sid, {}).setdefault(sid, EventRecords())
        store.extend(self.make_event(workspace, when) for when in self._moments(events, days))
        return workspace

    def delete(self, workspace_sid: str, *, account_sid: str = DEFAULT_ACCOUNT_SID) -> None:
        """Delete a workspace with its events."""
        self.workspaces[account_sid].remove(workspace_sid)
        self.events[account_sid].pop(workspace_sid, None)

    def workspace(self, workspace_sid: str, account_sid: str = DEFAULT_ACCOUNT_SID) -> dict[str, t.Any]:
        return next(w for w in self.workspaces.get(account_sid, []) if w["sid"] == workspace_sid)

    def events_of(self, workspace_sid: str, *, account_sid: str = DEFAULT_ACCOUNT_SID) -> list[dict[str, t.Any]]:
        return list(self.events[account_sid][workspace_sid])

    def add_events(
        self,
        workspace_sid: str,
        moments: t.Iterable[dt.datetime],
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        **overrides: t.Any,
    ) -> list[dict[str, t.Any]]:
        """Events at `moments` (to the millisecond); `overrides` replace top-level fields."""
        workspace = self.workspace(workspace_sid, account_sid)
        events = [{**self.make_event(workspace, when), **overrides} for when in moments]
        self.events[account_sid][workspace_sid].extend(events)
        return events

    def _moments(self, count: int, days: int) -> list[dt.datetime]:
        rng = self.rng
        now = self.emulator.now.replace(microsecond=0)
        recent = min(count, 5)
        # Inside the default 15 minutes (with a margin for slow tests), then just outside it.
        moments = [now - dt.timedelta(seconds=rng.randrange(60, 13 * 60)) for _ in range(min(recent, 3))]
        moments += [now - dt.timedelta(seconds=rng.randrange(17 * 60, 60 * 60)) for _ in range(recent - len(moments))]
        span = days * 86400 - 3600
        while len(moments) < count:
            second = now - dt.timedelta(seconds=3600 + rng.randrange(max(1, span)))
            burst = 1 + (rng.random() < 0.25) * rng.randrange(1, 5)
            for _ in range(min(burst, count - len(moments))):
                moments.append(second)
        # Distinct milliseconds inside each second.
        result = []
        used: set[dt.datetime] = set()
        for moment in moments:
            when = moment + dt.timedelta(milliseconds=rng.randrange(1000))
            while when in used:
                when = moment + dt.timedelta(milliseconds=rng.randrange(1000))
            used.add(when)
            result.append(when)
        return result

    def make_workspace(
        self, account_sid: str, sid: str, created: dt.datetime, friendly_name: str | None
    ) -> dict[str, t.Any]:
        rng = self.rng
        url = f"{HOST}/v1/Workspaces/{sid}"
        activity_sid = new_sid(rng, "WA")
        links = {
            name: f"{url}/{path}"
            for name, path in (
                ("activities", "Activities"),
                ("statistics", "Statistics"),
                ("real_time_statistics", "RealTimeStatistics"),
                ("cumulative_statistics", "CumulativeStatistics"),
                ("task_queues", "TaskQueues"),
                ("tasks", "Tasks"),
                ("workers", "Workers"),
                ("workflows", "Workflows"),
                ("task_channels", "TaskChannels"),
                ("events", "Events"),
            )
        }
        workspace: dict[str, t.Any] = {
            "account_sid": account_sid,
            "date_created": twilio_timestamp(created),
            "date_updated": twilio_timestamp(created + dt.timedelta(hours=rng.randrange(1, 48))),
            "default_activity_name": "Offline",
            "default_activity_sid": activity_sid,
            "event_callback_url": rng.choice([None, "https://example.com/taskrouter-events"]),
            "events_filter": None,
            "friendly_name": friendly_name or f"Workspace {sid[-4:]}",
            "links": links,
            "multi_task_enabled": rng.random() < 0.5,
            "prioritize_queue_order": rng.choice(["FIFO", "LIFO"]),
            "sid": sid,
            "timeout_activity_name": "Offline",
            "timeout_activity_sid": activity_sid,
            "url": url,
        }
        # The workspace's own workers, queues and workflow, for realistic event data (not served).
        workspace["_workers"] = [
            {"sid": new_sid(rng, "WK"), "name": f"agent-{n}", "skills": rng.sample(["en", "es", "fr", "billing"], 2)}
            for n in range(3)
        ]
        workspace["_queues"] = [{"sid": new_sid(rng, "WQ"), "name": name} for name in ("Support", "Sales")]
        workspace["_workflow"] = {"sid": new_sid(rng, "WW"), "name": "Default Fifo Workflow"}
        return workspace

    def make_event(self, workspace: dict[str, t.Any], when: dt.datetime) -> dict[str, t.Any]:
        rng = self.rng
        ws_sid = workspace["sid"]
        ws_url = workspace["url"]
        base = {"workspace_sid": ws_sid, "workspace_name": workspace["friendly_name"]}
        kind = rng.random()
        worker = rng.choice(workspace["_workers"])
        worker_data = {
            "worker_sid": worker["sid"],
            "worker_name": worker["name"],
            "worker_attributes": json.dumps({"skills": worker["skills"], "contact_uri": f"client:{worker['name']}"}),
            "worker_activity_sid": new_sid(rng, "WA"),
            "worker_activity_name": rng.choice(ACTIVITIES),
        }
        queue = rng.choice(workspace["_queues"])
        task_sid = new_sid(rng, "WT")
        task_data = {
            "task_sid": task_sid,
            "task_attributes": json.dumps(
                {
                    "type": rng.choice(["support", "billing"]),
                    "from": f"+1555{rng.randrange(10**7):07d}",
                    "priority": rng.randrange(5),
                }
            ),
            "task_age": str(rng.randrange(600)),
            "task_priority": str(rng.randrange(5)),
            "task_assignment_status": rng.choice(["pending", "reserved", "assigned", "completed"]),
            "task_queue_sid": queue["sid"],
            "task_queue_name": queue["name"],
            "task_channel_unique_name": rng.choice(CHANNELS),
            "workflow_sid": workspace["_workflow"]["sid"],
            "workflow_name": workspace["_workflow"]["name"],
        }
        if kind < 0.45:
            event_type = rng.choice(TASK_EVENTS)
            event_data = {**task_data, **base}
            resource_type, resource_sid, resource_path = "task", task_sid, f"Tasks/{task_sid}"
            description = f"Task {task_sid} {event_type.split('.')[-1]}"
        elif kind < 0.75:
            event_type = rng.choice(RESERVATION_EVENTS)
            reservation_sid = new_sid(rng, "WR")
            event_data = {**task_data, **worker_data, "reservation_sid": reservation_sid, **base}
            resource_type, resource_sid = "reservation", reservation_sid
            resource_path = f"Tasks/{task_sid}/Reservations/{reservation_sid}"
            description = f"Reservation {reservation_sid} {event_type.split('.')[-1]} for {worker['name']}"
        else:
            event_type = rng.choice(WORKER_EVENTS)
            seconds = rng.randrange(3600)
            event_data = {
                **worker_data,
                "worker_time_in_previous_activity": str(seconds),
                "worker_time_in_previous_activity_ms": str(seconds * 1000 + rng.randrange(1000)),
                **base,
            }
            resource_type, resource_sid, resource_path = "worker", worker["sid"], f"Workers/{worker['sid']}"
            description = f"Worker {worker['name']} updated to {event_data['worker_activity_name']} Activity"
        sid = new_sid(rng, "EV")
        return {
            "account_sid": workspace["account_sid"],
            "actor_sid": ws_sid,
            "actor_type": "workspace",
            "actor_url": ws_url,
            "description": description,
            "event_data": event_data,
            "event_date": twilio_timestamp(when),
            "event_date_ms": epoch_ms(when),
            "event_type": event_type,
            "resource_sid": resource_sid,
            "resource_type": resource_type,
            "resource_url": f"{ws_url}/{resource_path}",
            "sid": sid,
            "source": "twilio",
            "source_ip_address": None,
            "url": f"{ws_url}/Events/{sid}",
            "workspace_sid": ws_sid,
        }

    # ---- handlers ----------------------------------------------------------------------

    def list_workspaces(self, request: Request) -> Response:
        account = self.emulator.twilio_account(request)
        token = request.param("PageToken")
        records: t.Iterable[dict[str, t.Any]] = self.workspaces.get(
            account, SortedRecords("date_created")
        ).newest_first(None, None, decode_token(token) if token else None)
        name = request.param("FriendlyName")
        if name is not None:
            records = (record for record in records if record["friendly_name"] == name)
        served = (public(record) for record in records)
        return twilio_page(
            self.emulator,
            request,
            served,
            key="workspaces",
            cursor=lambda record: (record["date_created"], record["sid"]),
            filters={"FriendlyName": name} if name is not None else {},
        )

    def list_events(self, request: Request, workspace_sid: str) -> Response:
        account = self.emulator.twilio_account(request)
        if self.before_events_request is not None:
            self.before_events_request(request, workspace_sid)
        store = self.events.get(account, {}).get(workspace_sid)
        if not WORKSPACE_SID.match(workspace_sid) or store is None:
            raise twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        start = parse_date_param(request, "StartDate", formats="strict")
        end = parse_date_param(request, "EndDate", formats="strict")
        minutes = request.param("Minutes")
        now = self.emulator.clock()
        refuse_if_too_old(self.retention_answer, "StartDate", start, now, self.retention)
        if start is None:
            try:
                start = now - dt.timedelta(minutes=int(minutes) if minutes is not None else DEFAULT_MINUTES)
            except ValueError:
                raise twilio_error(400, 20001, f"Invalid Minutes: {minutes}") from None
        since = max(epoch_ms(start), epoch_ms(now - self.retention))
        until = ms_key(epoch_ms(end + dt.timedelta(seconds=1))) if end is not None else None
        token = request.param("PageToken")
        records: t.Iterable[dict[str, t.Any]] = store.newest_first(
            ms_key(since), until, decode_token(token) if token else None
        )
        chosen = {name: value for name in EVENT_FILTERS if (value := request.param(name)) is not None}
        for name, wanted in chosen.items():
            records = matching(records, EVENT_FILTERS[name], wanted)
        echoed = {
            **{name: chosen[name] for name in ("TaskQueueSid",) if name in chosen},
            **({"StartDate": request.param("StartDate") or ""} if request.param("StartDate") is not None else {}),
            **({"EndDate": request.param("EndDate") or ""} if end is not None else {}),
            **({"Minutes": minutes} if minutes is not None else {}),
            **{name: value for name, value in chosen.items() if name != "TaskQueueSid"},
        }
        response = twilio_page(
            self.emulator,
            request,
            records,
            key="events",
            cursor=store.key,
            filters=echoed,
        )
        next_page_url = response.body["meta"]["next_page_url"]
        if next_page_url:
            self.next_page_urls.append(next_page_url)
        if self.shuffle_event_pages:
            random.Random(request.url).shuffle(response.body["events"])
        return response


def matching(records: t.Iterable[dict[str, t.Any]], field: str, wanted: str) -> t.Iterator[dict[str, t.Any]]:
    """The events whose `field` (top-level, else in `event_data`) equals `wanted`."""
    for record in records:
        source = record if field in TOP_LEVEL_FILTER_FIELDS else (record.get("event_data") or {})
        if source.get(field) == wanted:
            yield record


def public(workspace: dict[str, t.Any]) -> dict[str, t.Any]:
    """The workspace as the API shows it, without the emulator's own bookkeeping."""
    return {key: value for key, value in workspace.items() if not key.startswith("_")}
