"""Telnyx: GET /v2/audit_events with its documented behaviour.

- Bearer auth with an API key; a missing or unknown key answers 401 with Telnyx's error JSON
  `{"errors": [{"code": "10009", "title": "Authentication failed", "detail": ...}]}`.
- Page-number paging: `page[number]` from 1 (default 1), `page[size]` from 1 to 250 (default
  20; the older spec's limits). `meta` is exactly the spec's `audit-logs_PaginationMeta`:
  `total_pages`, `total_results`, `page_number`, `page_size`. A page past the last is empty.
- `filter[created_after]` / `filter[created_before]`: events created strictly after / strictly
  before the given date-time (the spec's wording; `filters_inclusive` switches to >= / <=).
- `sort` by creation date, `asc` or `desc`; default `desc` (newest first), as the spec's
  example shows. Events sharing a `created_at` come in `id` order (reversed for `desc`).
- `created_at` has milliseconds (`2026-01-05T10:11:12.345Z`), except that a whole second is
  written without a fraction (`2026-01-05T10:11:12Z`, as in the spec's example).
- Malformed values answer 400 (`10015 Bad Request`); out-of-range page values 422.
- Switches for tests: `filters_inclusive` (>= / <= instead of > / <), `honour_sort` (False:
  always newest first, a server fault).
- How long audit events are kept is not documented: by default everything is kept. Tests set
  `retention` (a timedelta); a `filter[created_after]` older than that is trimmed silently or
  refused with 400 (`retention_answer`, "trim" or "refuse").
- Audit logs are "best-effort, eventually consistent": `add_events` makes events visible
  with any (older) `created_at`, now or after a number of list requests (`after_requests`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import threading
import typing as t
import uuid

from emulator.audit_scenarios import Planted, plant_telnyx
from emulator.http import RETENTION_ANSWERS, HTTPError, Request, Response, telnyx_error

if t.TYPE_CHECKING:
    from emulator.server import Emulator

DEFAULT_ORGANIZATION = "org-emulator"
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 20
CHANGE_MADE_BY = ("telnyx", "account_manager", "account_owner", "organization_member")
RESOURCES = (
    ("phone_number", True),
    ("messaging_profile", False),
    ("sip_connection", False),
    ("outbound_voice_profile", False),
    ("api_key", False),
    ("user", False),
)


def telnyx_timestamp(value: dt.datetime) -> str:
    """Milliseconds and `Z`; a whole second has no fraction, as in the spec's example."""
    value = value.astimezone(dt.UTC)
    millis = value.microsecond // 1000
    fraction = f".{millis:03d}" if millis else ""
    return f"{value:%Y-%m-%dT%H:%M:%S}{fraction}Z"


def parse_created_at(value: str) -> dt.datetime:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=parsed.tzinfo or dt.UTC).astimezone(dt.UTC)


def bad_request(detail: str) -> HTTPError:
    return telnyx_error(400, "10015", "Bad Request", detail)


def invalid_parameter(detail: str) -> HTTPError:
    return telnyx_error(422, "10015", "Bad Request", detail)


class AuditLog:
    """One organization's events in ascending (created_at, id) order."""

    def __init__(self) -> None:
        self._keys: list[tuple[dt.datetime, str]] = []
        self._events: list[dict[str, t.Any]] = []

    @staticmethod
    def key(event: dict[str, t.Any]) -> tuple[dt.datetime, str]:
        return parse_created_at(event["created_at"]), event["id"]

    def add(self, event: dict[str, t.Any]) -> None:
        key = self.key(event)
        index = bisect.bisect_left(self._keys, key)
        self._keys.insert(index, key)
        self._events.insert(index, event)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> t.Iterator[dict[str, t.Any]]:
        return iter(self._events)

    def select(
        self, after: dt.datetime | None, before: dt.datetime | None, *, inclusive: bool = False
    ) -> list[dict[str, t.Any]]:
        """Events with after < created_at < before, ascending (or <= both when inclusive)."""
        low, high = 0, len(self._keys)
        if after is not None:
            search = bisect.bisect_left if inclusive else bisect.bisect_right
            low = search(self._keys, (after, "\uffff" if not inclusive else ""))
        if before is not None:
            search = bisect.bisect_right if inclusive else bisect.bisect_left
            high = search(self._keys, (before, "\uffff" if inclusive else ""))
        return self._events[low:high]


class TelnyxAPI:
    name = "telnyx"

    def __init__(
        self,
        emulator: Emulator,
        *,
        telnyx_events: int = 240,
        telnyx_days: int = 3,
        audit_scenarios: bool = False,
        telnyx_record_type_names_resource: bool = False,
        **_: t.Any,
    ) -> None:
        self.emulator = emulator
        self.rng = random.Random(emulator.seed * 7919 + 17)
        self.events: dict[str, AuditLog] = {}
        #: True makes both filters inclusive (the spec says "before"/"after": exclusive).
        self.filters_inclusive = False
        #: False makes the server ignore `sort` and answer newest first (a fault, for tests).
        self.honour_sort = True
        #: How long events are kept (None: for ever), and how an older query is answered.
        self.retention: dt.timedelta | None = None
        self.retention_answer = "trim"
        #: The spec calls `record_type` "the type of the resource being audited" and shows
        #: `audit_event`: False plays that example (every event says `audit_event`), True the other
        #: reading (it names the resource: `phone_number`, `api_key`, ...).
        self.record_type_names_resource = telnyx_record_type_names_resource
        #: Audit-event list requests answered so far (for `add_events(after_requests=...)`).
        self.requests_answered = 0
        self._lock = threading.Lock()
        self._pending: list[tuple[int, str, dict[str, t.Any]]] = []
        self.generate(DEFAULT_ORGANIZATION, telnyx_events, telnyx_days)
        #: What the detections of transform/ must find (emulator/audit_scenarios.py).
        self.planted = Planted()
        if audit_scenarios:
            plant_telnyx(self, DEFAULT_ORGANIZATION, self.planted)

    def routes(self) -> list[tuple[str, str, t.Callable[..., Response]]]:
        return [("GET", r"/v2/audit_events", self.list_audit_events)]

    # ---- data --------------------------------------------------------------------------

    def organization_id(self, organization: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://api.telnyx.com/organizations/{organization}"))

    def generate(self, organization: str, count: int, days: int) -> None:
        """Events over the last `days` days, ending a minute ago, some in bursts of one instant."""
        log = self.events.setdefault(organization, AuditLog())
        now = self.emulator.now
        span_ms = max(1, days * 86_400_000 - 120_000)
        made = 0
        while made < count:
            when = now - dt.timedelta(seconds=60, milliseconds=self.rng.randrange(span_ms))
            if self.rng.random() < 0.25:
                when = when.replace(microsecond=0)  # written without a fraction
            burst = 1 + (self.rng.random() < 0.2) * self.rng.randrange(1, 5)
            for _ in range(min(burst, count - made)):
                log.add(self.make_event(organization, when))
                made += 1

    def make_event(self, organization: str, when: dt.datetime, **fields: t.Any) -> dict[str, t.Any]:
        rng = self.rng
        resource, has_alternate = rng.choice(RESOURCES)
        change_type = rng.choice(("create", "update", "update", "update", "delete"))
        alternate = f"+1415555{rng.randrange(10_000):04d}" if has_alternate else None
        event = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "user_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "record_type": resource if self.record_type_names_resource else "audit_event",
            "resource_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "alternate_resource_id": alternate,
            "change_made_by": rng.choice(CHANGE_MADE_BY),
            "changes": self.make_changes(resource, change_type),
            "organization_id": self.organization_id(organization),
            "change_type": change_type,
            "created_at": telnyx_timestamp(when),
        }
        event.update(fields)
        return event

    def make_changes(self, resource: str, change_type: str) -> list[dict[str, t.Any]] | None:
        """`from`/`to` hold any JSON value: string, number, boolean, object, array or null."""
        rng = self.rng
        if change_type != "update" and rng.random() < 0.5:
            return None
        candidates: list[dict[str, t.Any]] = [
            {"field": f"{resource}.tags", "from": ["a"], "to": ["a", f"t{rng.randrange(99)}"]},
            {"field": "enabled", "from": rng.random() < 0.5, "to": rng.random() < 0.5},
            {
                "field": "limits.max_calls",
                "from": rng.randrange(1, 10),
                "to": rng.randrange(10, 99),
            },
            {"field": "connection_name", "from": None, "to": f"conn-{rng.randrange(1000)}"},
            {"field": "webhook", "from": {"url": "https://a.example/hook"}, "to": None},
            {"field": "rate", "from": 0.5, "to": 0.75},
        ]
        if change_type == "create":
            return [{**rng.choice(candidates), "from": None}]
        if change_type == "delete":
            return [{**rng.choice(candidates), "to": None}]
        return rng.sample(candidates, rng.randrange(1, 4))

    def add_events(
        self,
        moments: t.Iterable[dt.datetime],
        *,
        organization: str = DEFAULT_ORGANIZATION,
        after_requests: int = 0,
        **fields: t.Any,
    ) -> list[dict[str, t.Any]]:
        """Late-arriving events created at `moments`: visible now, or once `after_requests` more
        lists were answered."""
        events = [self.make_event(organization, when, **fields) for when in moments]
        with self._lock:
            for event in events:
                if after_requests <= 0:
                    self.events.setdefault(organization, AuditLog()).add(event)
                else:
                    self._pending.append((self.requests_answered + after_requests, organization, event))
        return events

    def _publish_arrivals(self) -> None:
        with self._lock:
            due = [item for item in self._pending if item[0] <= self.requests_answered]
            self._pending = [item for item in self._pending if item[0] > self.requests_answered]
            for _, organization, event in due:
                self.events.setdefault(organization, AuditLog()).add(event)

    # ---- handler -----------------------------------------------------------------------

    def list_audit_events(self, request: Request) -> Response:
        organization = self.emulator.telnyx_organization(request)
        number = self._integer(request, "page[number]", 1)
        size = self._integer(request, "page[size]", DEFAULT_PAGE_SIZE)
        if number < 1:
            raise invalid_parameter(f"page[number] must be 1 or more, got {number}")
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid_parameter(f"page[size] must be between 1 and {MAX_PAGE_SIZE}, got {size}")
        after = self._date(request, "filter[created_after]")
        before = self._date(request, "filter[created_before]")
        sort = request.param("sort") or "desc"
        if sort not in ("asc", "desc"):
            raise bad_request(f"sort must be 'asc' or 'desc', got {sort!r}")
        after = self._kept(after)
        self._publish_arrivals()
        with self._lock:
            log = self.events.get(organization, AuditLog())
            selected = log.select(after, before, inclusive=self.filters_inclusive)
        if sort == "desc" or not self.honour_sort:
            selected = selected[::-1]
        total = len(selected)
        page = selected[(number - 1) * size : number * size]
        with self._lock:
            self.requests_answered += 1
        return Response(
            200,
            {
                "data": page,
                "meta": {
                    "total_pages": math.ceil(total / size),
                    "total_results": total,
                    "page_number": number,
                    "page_size": size,
                },
            },
        )

    def _kept(self, after: dt.datetime | None) -> dt.datetime | None:
        """`filter[created_after]` within the retention: trimmed to it, or refused."""
        if self.retention is None:
            return after
        if self.retention_answer not in RETENTION_ANSWERS:
            raise ValueError(f"retention answer must be one of {RETENTION_ANSWERS}, not {self.retention_answer!r}")
        oldest = self.emulator.clock() - self.retention
        if after is None or after < oldest:
            if after is not None and self.retention_answer == "refuse":
                raise bad_request(f"filter[created_after] must be within the last {self.retention.days} days")
            return oldest
        return after

    @staticmethod
    def _integer(request: Request, name: str, default: int) -> int:
        raw = request.param(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"{name} must be an integer, got {raw!r}") from None

    @staticmethod
    def _date(request: Request, name: str) -> dt.datetime | None:
        raw = request.param(name)
        if raw is None:
            return None
        try:
            return parse_created_at(raw)
        except ValueError:
            raise bad_request(f"{name} must be an ISO 8601 date-time, got {raw!r}") from None
