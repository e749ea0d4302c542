"""Twilio Monitor: /v1/Events and /v1/Alerts with their documented behaviour.

- Newest first. Events' `StartDate`/`EndDate` match whole UTC days (time of day ignored);
  Alerts' match to the second.
- Events: only one of ActorSid, EventType, ResourceSid, SourceIpAddress per request, else 400.
- Events are kept `event_retention_days` (30; 13 months on some editions); a StartDate
  reaching further back is trimmed silently or refused with 400: `retention_answer`
  ("trim", the default, or "refuse"), since the docs do not say. Alerts are kept 30 days,
  and a query whose StartDate reaches further back is refused with 400 (documented).
- Alerts: a page that would reach past the 10,000th result of a query is refused with 400
  and Twilio's body for it (no error code). Which timestamp StartDate/EndDate match is not
  documented: `alerts_filter_field` plays either reading. `date_generated` is earlier than
  `date_created` by a random delay of up to `ALERT_MAX_BUFFERING` (alerts are buffered).
- `shuffle_event_pages` serves each Events page out of order, to test that a reader that
  stops early on newest-first pages does not guess when they are not.
"""

from __future__ import annotations

import datetime as dt
import random
import typing as t

from emulator.audit_scenarios import MONITOR_EVENT_TYPES, Planted, plant_monitor
from emulator.http import DEFAULT_ACCOUNT_SID, HTTPError, Request, Response, twilio_error
from emulator.twilio import (
    SortedRecords,
    decode_token,
    new_sid,
    page_size,
    parse_date_param,
    refuse_if_too_old,
    twilio_page,
    twilio_timestamp,
)

if t.TYPE_CHECKING:
    from emulator.server import Emulator

#: The published event types the random events draw from (the catalogue lives with the scenarios).
EVENT_TYPES = MONITOR_EVENT_TYPES
EVENT_FILTERS = ("ActorSid", "EventType", "ResourceSid", "SourceIpAddress")
EVENT_FILTER_FIELDS = dict(
    zip(EVENT_FILTERS, ("actor_sid", "event_type", "resource_sid", "source_ip_address"), strict=True)
)
ALERT_LEVELS = ("error", "warning", "notice", "debug")
#: The longest an alert waits between `date_generated` and `date_created`.
ALERT_MAX_BUFFERING = dt.timedelta(minutes=5)
#: Results one Alerts query serves at most; a page reaching past it is refused.
ALERTS_RESULT_LIMIT = 10_000
ALERTS_LIMIT_BODY = {
    "message": "Invalid page and pageSize combination, data is limited to 10,000 results",
    "status": 400,
}
AlertsFilterField = t.Literal["date_created", "date_generated"]


class MonitorAPI:
    name = "monitor"

    def __init__(
        self,
        emulator: Emulator,
        *,
        monitor_events: int = 600,
        monitor_alerts: int = 150,
        monitor_days: int = 29,
        event_retention_days: int = 30,
        alerts_filter_field: AlertsFilterField = "date_created",
        shuffle_event_pages: bool = False,
        audit_scenarios: bool = False,
        monitor_event_data_flat: bool = False,
        **_: t.Any,
    ) -> None:
        self.emulator = emulator
        #: The timestamp Alerts' StartDate/EndDate match (Twilio's docs do not say which).
        self.alerts_filter_field: AlertsFilterField = alerts_filter_field
        #: Serve every Events page in random order instead of newest first.
        self.shuffle_event_pages = shuffle_event_pages
        #: Alerts pages refused for reaching past the 10,000th result.
        self.alerts_refused = 0
        #: Twilio's docs put changed properties under `event_data.resource_properties`; their example
        #: has them at the top of `event_data`. False plays the first reading, True the second.
        self.event_data_flat = monitor_event_data_flat
        self.rng = random.Random(emulator.seed)
        self.event_retention = dt.timedelta(days=event_retention_days)
        self.alert_retention = dt.timedelta(days=30)
        #: How a StartDate older than `event_retention` is answered: "trim" or "refuse".
        self.retention_answer = "trim"
        self.events: dict[str, SortedRecords] = {}
        self.alerts: dict[str, SortedRecords] = {}
        self.sizes = (monitor_events, monitor_alerts, monitor_days)
        #: What the detections of transform/ must find (emulator/audit_scenarios.py).
        self.planted = Planted()
        self.add_account(DEFAULT_ACCOUNT_SID)
        if audit_scenarios:
            plant_monitor(self, DEFAULT_ACCOUNT_SID, self.planted)

    def routes(self) -> list[tuple[str, str, t.Callable[..., Response]]]:
        return [("GET", r"/v1/Events", self.list_events), ("GET", r"/v1/Alerts", self.list_alerts)]

    # ---- data --------------------------------------------------------------------------

    def add_account(self, account_sid: str) -> None:
        self.generate(account_sid, *self.sizes)

    def generate(self, account_sid: str, events: int, alerts: int, days: int) -> None:
        """Records spread over the last `days` days, in bursts that share a second."""
        now = self.emulator.now
        self.events.setdefault(account_sid, SortedRecords("event_date"))
        self.alerts.setdefault(account_sid, SortedRecords("date_created"))
        moments = self._moments(now, days, events)
        self.events[account_sid].extend(self.make_event(account_sid, when) for when in moments)
        self.alerts[account_sid].extend(self.make_alert(account_sid, when) for when in self._moments(now, days, alerts))

    def _moments(self, now: dt.datetime, days: int, count: int) -> list[dt.datetime]:
        moments: list[dt.datetime] = []
        span = days * 86400 - 120
        while len(moments) < count:
            when = now - dt.timedelta(seconds=60 + self.rng.randrange(max(1, span)))
            burst = 1 + (self.rng.random() < 0.2) * self.rng.randrange(1, 5)
            moments += [when] * min(burst, count - len(moments))
        return moments

    def make_event(self, account_sid: str, when: dt.datetime) -> dict[str, t.Any]:
        rng = self.rng
        resource_type, event_type = rng.choice(EVENT_TYPES)
        source = rng.choice(["api", "web", "twilio"])
        actor_sid = None if source == "twilio" else new_sid(rng, "US" if source == "web" else "AC")
        sid = new_sid(rng, "AE")
        resource_sid = new_sid(rng, "PN")
        return {
            "account_sid": account_sid,
            "actor_sid": actor_sid,
            "actor_type": {"api": "account", "web": "user", "twilio": "twilio-admin"}[source],
            "description": None if rng.random() < 0.7 else f"{event_type} by {source}",
            "event_data": self.event_data(
                {"friendly_name": {"previous": "old", "updated": f"name-{rng.randrange(1000)}"}}
            ),
            "event_date": twilio_timestamp(when),
            "event_type": event_type,
            "resource_sid": resource_sid,
            "resource_type": resource_type,
            "sid": sid,
            "source": source,
            "source_ip_address": None if source == "twilio" else f"203.0.113.{rng.randrange(1, 255)}",
            "url": f"https://monitor.twilio.com/v1/Events/{sid}",
            "links": {
                "actor": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}",
                "resource": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{resource_sid}",
            },
        }

    def add_alerts(
        self, moments: t.Iterable[dt.datetime], *, buffered: bool = True, account_sid: str = DEFAULT_ACCOUNT_SID
    ) -> list[dict[str, t.Any]]:
        """Alerts recorded (`date_created`) at `moments`; without buffering, generated then too."""
        alerts = [self.make_alert(account_sid, when, buffered=buffered) for when in moments]
        self.alerts.setdefault(account_sid, SortedRecords("date_created")).extend(alerts)
        return alerts

    def add_events(
        self, moments: t.Iterable[dt.datetime], *, account_sid: str = DEFAULT_ACCOUNT_SID
    ) -> list[dict[str, t.Any]]:
        """Events at `moments`, visible from now on (late arrivals, when they are in the past)."""
        events = [self.make_event(account_sid, when) for when in moments]
        self.events.setdefault(account_sid, SortedRecords("event_date")).extend(events)
        return events

    def event_data(self, properties: dict[str, t.Any]) -> dict[str, t.Any]:
        """`event_data` with these changed properties, in the shape the emulator plays."""
        return dict(properties) if self.event_data_flat else {"resource_properties": properties}

    def make_alert(self, account_sid: str, when: dt.datetime, *, buffered: bool = True) -> dict[str, t.Any]:
        rng = self.rng
        sid = new_sid(rng, "NO")
        delay = rng.randrange(0, int(ALERT_MAX_BUFFERING.total_seconds()) + 1) if buffered else 0
        generated = when - dt.timedelta(seconds=delay)
        error_code = rng.choice(["11200", "11205", "12300", "30003", "82002"])
        return {
            "account_sid": account_sid,
            "alert_text": f"Msg=HTTP+retrieval+failure&ErrorCode={error_code}",
            "api_version": "2010-04-01",
            "date_created": twilio_timestamp(when),
            "date_generated": twilio_timestamp(generated),
            "date_updated": twilio_timestamp(when),
            "error_code": error_code,
            "log_level": rng.choice(ALERT_LEVELS),
            "more_info": f"https://www.twilio.com/docs/errors/{error_code}",
            "request_method": rng.choice(["GET", "POST"]),
            "request_url": "https://example.com/webhook",
            "resource_sid": new_sid(rng, "CA"),
            "sid": sid,
            "url": f"https://monitor.twilio.com/v1/Alerts/{sid}",
            "service_sid": None,
        }

    # ---- handlers ----------------------------------------------------------------------

    def list_events(self, request: Request) -> Response:
        account = self.emulator.twilio_account(request)
        chosen = [name for name in EVENT_FILTERS if request.param(name) is not None]
        if len(chosen) > 1:
            raise twilio_error(
                400, 20001, "Only one of ActorSid, EventType, ResourceSid or SourceIpAddress may be given"
            )
        start = parse_date_param(request, "StartDate")
        end = parse_date_param(request, "EndDate")
        now = self.emulator.clock()
        refuse_if_too_old(self.retention_answer, "StartDate", start, now, self.event_retention)
        # Whole UTC days: the time of day in StartDate/EndDate is ignored.
        oldest = (now - self.event_retention).strftime("%Y-%m-%dT%H:%M:%SZ")
        since = max(f"{start:%Y-%m-%d}T00:00:00Z", oldest) if start else oldest
        until = f"{end + dt.timedelta(days=1):%Y-%m-%d}T00:00:00Z" if end else None
        token = request.param("PageToken")
        store = self.events.get(account, SortedRecords("event_date"))
        records = store.newest_first(since, until, decode_token(token) if token else None)
        filters = {name: request.param(name) or "" for name in chosen}
        if chosen:
            field, wanted = EVENT_FILTER_FIELDS[chosen[0]], request.param(chosen[0])
            records = (record for record in records if record.get(field) == wanted)
        echoed = {
            **({"StartDate": request.param("StartDate") or ""} if start else {}),
            **({"EndDate": request.param("EndDate") or ""} if end else {}),
            **filters,
        }
        page = twilio_page(
            self.emulator,
            request,
            records,
            key="events",
            cursor=store.key,
            filters=echoed,
        )
        if self.shuffle_event_pages:
            random.Random(request.url).shuffle(page.body["events"])
        return page

    def list_alerts(self, request: Request) -> Response:
        account = self.emulator.twilio_account(request)
        start = parse_date_param(request, "StartDate")
        end = parse_date_param(request, "EndDate")
        now = self.emulator.clock()
        refuse_if_too_old("refuse", "StartDate", start, now, self.alert_retention)
        oldest = now - self.alert_retention
        if (int(request.param("Page") or 0) + 1) * page_size(request) > ALERTS_RESULT_LIMIT:
            self.alerts_refused += 1
            raise HTTPError(Response(400, dict(ALERTS_LIMIT_BODY)))
        since = twilio_timestamp(start) if start else twilio_timestamp(oldest)
        until = twilio_timestamp(end + dt.timedelta(seconds=1)) if end else None
        token = request.param("PageToken")
        cursor = decode_token(token) if token else None
        alerts = self.alerts.get(account, SortedRecords("date_created"))
        if self.alerts_filter_field == "date_created":
            records = alerts.newest_first(since, until, cursor)
        else:
            # Generated no later than created, and created at most ALERT_MAX_BUFFERING later.
            latest = twilio_timestamp(end + dt.timedelta(seconds=1) + ALERT_MAX_BUFFERING) if end else None
            records = (
                record
                for record in alerts.newest_first(since, latest, cursor)
                if since <= record["date_generated"] and (until is None or record["date_generated"] < until)
            )
        level = request.param("LogLevel")
        if level is not None:
            records = (record for record in records if record["log_level"] == level)
        echoed = {
            name: request.param(name) or ""
            for name in ("LogLevel", "StartDate", "EndDate")
            if request.param(name) is not None
        }
        return twilio_page(
            self.emulator,
            request,
            records,
            key="alerts",
            cursor=alerts.key,
            filters=echoed,
        )
