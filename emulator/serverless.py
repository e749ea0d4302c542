"""Twilio Serverless: Services, Environments and function Logs with their documented limits.

- `/v1/Services`, `/v1/Services/{ServiceSid}/Environments`: plain lists, `meta` paging.
  A service is found by its SID or its unique name; an unknown one answers 404 (20404).
- `/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Logs`:
  - without `StartDate` only the last day, without `EndDate` up to now; both bounds are
    exclusive ("after which", "before which"; `filters_inclusive` for the other reading);
    `FunctionSid` filters;
  - at most 10,000 results per query: the pages simply stop there, `next_page_url` null,
    no error (`capped_queries` counts the queries that were cut);
  - 5 requests per second per account, counted over a sliding second: the sixth answers
    429 with Twilio error 20429 and `Retry-After: 1`;
  - logs older than 30 days are gone: a StartDate reaching further back is trimmed silently
    or refused with 400 (`retention_answer`, "trim" by default; the docs do not say);
  - `date_created` to the millisecond, several logs per millisecond, and no reliable
    order: each page comes shuffled (paging itself is stable, by a cursor in `PageToken`).
- Tests add logs (`add_logs`, `add_burst`), delete an environment or a service (`delete`),
  or have one deleted right after it is listed (`delete_after_listing`).
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import random
import threading
import time
import typing as t

from emulator.http import DEFAULT_ACCOUNT_SID, Request, Response, twilio_error
from emulator.twilio import (
    PageCursor,
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

PUBLIC = "https://serverless.twilio.com"
LOG_LEVELS = ("info", "info", "info", "warn", "error")
MESSAGES = (
    "Incoming call from {n}",
    "Sending SMS to {n}",
    "Webhook answered in {n} ms",
    "Retrying upstream request {n}",
    "Unhandled rejection in handler {n}",
)


class LogRequest(t.NamedTuple):
    """A Logs request as the rate limit saw it: 200 if it let it through, 429 if it refused it."""

    arrived: float  # time.monotonic()
    url: str
    status: int


def ms_timestamp(value: dt.datetime) -> str:
    """`date_created` of a log: UTC to the millisecond, fixed width (so it sorts as text)."""
    value = value.astimezone(dt.UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


class ServerlessAPI:
    name = "serverless"
    #: Results one Logs query returns at most.
    result_cap = 10_000
    #: Logs requests allowed per account in any `rate_period` seconds.
    rate_limit = 5
    rate_period = 1.0
    retention = dt.timedelta(days=30)
    default_window = dt.timedelta(days=1)

    def __init__(
        self,
        emulator: Emulator,
        *,
        serverless_services: int = 3,
        serverless_environments: tuple[int, ...] = (2, 1, 0),
        serverless_logs: int = 40,
        serverless_hours: int = 3,
        **_: t.Any,
    ) -> None:
        self.emulator = emulator
        self.rng = random.Random(emulator.seed)
        self._lock = threading.Lock()
        self.services: dict[str, SortedRecords] = {}
        self.environments: dict[tuple[str, str], SortedRecords] = {}
        self.logs: dict[tuple[str, str], SortedRecords] = {}
        self.pending_deletions: set[str] = set()
        #: Logs queries whose results were cut at `result_cap`.
        self.capped_queries = 0
        #: Whether StartDate and EndDate include logs created exactly then (the spec: they do not).
        self.filters_inclusive = False
        #: How a StartDate older than `retention` is answered: "trim" or "refuse".
        self.retention_answer = "trim"
        #: Every Logs request, in arrival order, with the rate limit's verdict.
        self.log_requests: list[LogRequest] = []
        self._recent: dict[str, collections.deque[float]] = {}
        self.sizes = (serverless_services, serverless_environments, serverless_logs, serverless_hours)
        self.generate(DEFAULT_ACCOUNT_SID, *self.sizes)

    def add_account(self, account_sid: str) -> None:
        """Another account with its own services, environments and logs (the default sizes)."""
        self.generate(account_sid, *self.sizes)

    def routes(self) -> list[tuple[str, str, t.Callable[..., Response]]]:
        return [
            ("GET", r"/v1/Services", self.list_services),
            ("GET", r"/v1/Services/(?P<service>[^/]+)/Environments", self.list_environments),
            (
                "GET",
                r"/v1/Services/(?P<service>[^/]+)/Environments/(?P<environment>[^/]+)/Logs",
                self.list_logs,
            ),
        ]

    # ---- data --------------------------------------------------------------------------

    def generate(self, account_sid: str, services: int, environments: tuple[int, ...], logs: int, hours: int) -> None:
        """`services` services with `environments[i]` environments each (cycling).

        Each environment gets `logs` logs over the last `hours` hours (a fifth sharing a
        millisecond with another, one exactly on each whole hour), and a few older ones:
        two days old (outside the default one-day window), ten days old, and 35 days old
        (past retention: never returned).
        """
        now = self.emulator.now
        for index in range(services):
            service = self.add_service(account_sid, f"service-{index}", created=now - dt.timedelta(days=90 - index))
            for env_index in range(environments[index % len(environments)] if environments else 0):
                environment = self.add_environment(
                    account_sid,
                    service["sid"],
                    ("dev", "prod", "stage")[env_index % 3],
                    created=now - dt.timedelta(days=80 - env_index),
                )
                moments = self._moments(now, hours, logs)
                whole_hour = now.replace(minute=0, second=0, microsecond=0)
                moments += [whole_hour - dt.timedelta(hours=h) for h in range(hours)]
                moments += [
                    now - dt.timedelta(days=days, minutes=self.rng.randrange(600)) for days in (2, 2, 10, 10, 35, 35)
                ]
                self.add_logs(service["sid"], environment["sid"], moments, account_sid=account_sid)

    def _moments(self, now: dt.datetime, hours: int, count: int) -> list[dt.datetime]:
        moments: list[dt.datetime] = []
        span_ms = max(1, hours * 3_600_000 - 120_000)
        while len(moments) < count:
            if moments and self.rng.random() < 0.2:
                moments.append(moments[-1])  # same millisecond as the previous log
            else:
                moments.append(now - dt.timedelta(milliseconds=60_000 + self.rng.randrange(span_ms)))
        return moments

    def add_service(self, account_sid: str, unique_name: str, *, created: dt.datetime) -> dict[str, t.Any]:
        sid = new_sid(self.rng, "ZS")
        url = f"{PUBLIC}/v1/Services/{sid}"
        service = {
            "sid": sid,
            "account_sid": account_sid,
            "friendly_name": unique_name.replace("-", " ").title(),
            "unique_name": unique_name,
            "include_credentials": True,
            "ui_editable": False,
            "domain_base": f"{unique_name}-{self.rng.randrange(1000, 9999)}",
            "date_created": twilio_timestamp(created),
            "date_updated": twilio_timestamp(created),
            "url": url,
            "links": {name: f"{url}/{name.title()}" for name in ("environments", "functions", "assets", "builds")},
        }
        with self._lock:
            self.services.setdefault(account_sid, SortedRecords("date_created")).add(service)
            self.environments[(account_sid, sid)] = SortedRecords("date_created")
        return service

    def add_environment(
        self, account_sid: str, service_sid: str, suffix: str, *, created: dt.datetime
    ) -> dict[str, t.Any]:
        sid = new_sid(self.rng, "ZE")
        url = f"{PUBLIC}/v1/Services/{service_sid}/Environments/{sid}"
        environment = {
            "sid": sid,
            "account_sid": account_sid,
            "service_sid": service_sid,
            "build_sid": new_sid(self.rng, "ZB"),
            "unique_name": f"{suffix}-environment",
            "domain_suffix": suffix,
            "domain_name": f"service-{sid[-4:]}-{suffix}.twil.io",
            "date_created": twilio_timestamp(created),
            "date_updated": twilio_timestamp(created),
            "url": url,
            "links": {name: f"{url}/{name.title()}" for name in ("variables", "deployments", "logs")},
        }
        with self._lock:
            self.environments[(account_sid, service_sid)].add(environment)
            self.logs[(account_sid, sid)] = SortedRecords("date_created", milliseconds=True)
        return environment

    def add_logs(
        self,
        service_sid: str,
        environment_sid: str,
        moments: t.Iterable[dt.datetime],
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
    ) -> list[dict[str, t.Any]]:
        """One log per moment (repeat a moment for logs sharing a millisecond)."""
        environment = self._environment(account_sid, service_sid, environment_sid)
        rng = self.rng
        functions = [f"ZH{environment['sid'][2:-1]}{digit}" for digit in "0123"]
        created = []
        logs_url = f"{PUBLIC}/v1/Services/{service_sid}/Environments/{environment_sid}/Logs"
        for when in moments:
            sid = new_sid(rng, "NO")
            created.append(
                {
                    "sid": sid,
                    "account_sid": account_sid,
                    "service_sid": service_sid,
                    "environment_sid": environment_sid,
                    "build_sid": environment["build_sid"],
                    "deployment_sid": "ZD" + environment["build_sid"][2:],
                    "function_sid": rng.choice(functions),
                    "request_sid": new_sid(rng, "RQ"),
                    "level": rng.choice(LOG_LEVELS),
                    "message": rng.choice(MESSAGES).format(n=rng.randrange(100_000)),
                    "date_created": ms_timestamp(when),
                    "url": f"{logs_url}/{sid}",
                }
            )
        with self._lock:
            self.logs[(account_sid, environment_sid)].extend(created)
        return created

    def add_burst(
        self,
        service_sid: str,
        environment_sid: str,
        count: int,
        start: dt.datetime,
        span: dt.timedelta,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
    ) -> list[dict[str, t.Any]]:
        """`count` logs in [start, start + span), about a third of them sharing a millisecond."""
        span_ms = max(1, int(span.total_seconds() * 1000))
        moments: list[dt.datetime] = []
        while len(moments) < count:
            when = start + dt.timedelta(milliseconds=self.rng.randrange(span_ms))
            moments += [when] * min(count - len(moments), self.rng.choice((1, 1, 2, 3)))
        return self.add_logs(service_sid, environment_sid, moments, account_sid=account_sid)

    def delete(self, sid: str, *, account_sid: str = DEFAULT_ACCOUNT_SID) -> None:
        """Delete a service (with its environments and logs) or an environment (with its logs)."""
        with self._lock:
            if sid in {service["sid"] for service in self.services.get(account_sid, [])}:
                self.services[account_sid].remove(sid)
                for environment in list(self.environments.pop((account_sid, sid), [])):
                    self.logs.pop((account_sid, environment["sid"]), None)
                return
            for (account, _service), environments in self.environments.items():
                if account == account_sid and sid in {env["sid"] for env in environments}:
                    environments.remove(sid)
                    self.logs.pop((account_sid, sid), None)
                    return
        raise KeyError(sid)

    def delete_after_listing(self, sid: str) -> None:
        """Delete this service or environment right after a list has shown it (a race)."""
        self.pending_deletions.add(sid)

    def environments_of(self, service_sid: str, *, account_sid: str = DEFAULT_ACCOUNT_SID) -> list[dict[str, t.Any]]:
        return list(self.environments.get((account_sid, service_sid), []))

    def logs_of(self, environment_sid: str, *, account_sid: str = DEFAULT_ACCOUNT_SID) -> list[dict[str, t.Any]]:
        return list(self.logs.get((account_sid, environment_sid), []))

    def _service(self, account_sid: str, key: str) -> dict[str, t.Any]:
        for service in self.services.get(account_sid, []):
            if key in (service["sid"], service["unique_name"]):
                return service
        raise twilio_error(404, 20404, f"The requested resource /Services/{key} was not found")

    def _environment(self, account_sid: str, service_key: str, environment_sid: str) -> dict[str, t.Any]:
        service = self._service(account_sid, service_key)
        for environment in self.environments.get((account_sid, service["sid"]), []):
            if environment["sid"] == environment_sid:
                return environment
        raise twilio_error(
            404,
            20404,
            f"The requested resource /Services/{service['sid']}/Environments/{environment_sid} was not found",
        )

    def _after_listing(self, records: list[dict[str, t.Any]]) -> None:
        for record in records:
            if record["sid"] in self.pending_deletions:
                self.pending_deletions.discard(record["sid"])
                self.delete(record["sid"], account_sid=record["account_sid"])

    # ---- handlers ----------------------------------------------------------------------

    def list_services(self, request: Request) -> Response:
        account = self.emulator.twilio_account(request)
        return self._plain_list(request, self.services.get(account, SortedRecords("date_created")), "services")

    def list_environments(self, request: Request, service: str) -> Response:
        account = self.emulator.twilio_account(request)
        found = self._service(account, service)
        return self._plain_list(request, self.environments[(account, found["sid"])], "environments")

    def _plain_list(self, request: Request, records: SortedRecords, key: str) -> Response:
        token = request.param("PageToken")
        with self._lock:
            response = twilio_page(
                self.emulator,
                request,
                records.newest_first(None, None, decode_token(token) if token else None),
                key=key,
                cursor=records.key,
                filters={},
            )
        self._after_listing(response.body[key])
        return response

    def list_logs(self, request: Request, service: str, environment: str) -> Response:
        account = self.emulator.twilio_account(request)
        self._check_rate(account, request.url)
        found = self._environment(account, service, environment)
        now = self.emulator.clock()
        given = parse_date_param(request, "StartDate")
        refuse_if_too_old(self.retention_answer, "StartDate", given, now, self.retention)
        start = given or now - self.default_window
        end = parse_date_param(request, "EndDate") or now
        # "After which" and "before which": exclusive, as the spec words them (or both inclusive).
        edge = dt.timedelta(milliseconds=0 if self.filters_inclusive else 1)
        since = ms_timestamp(max(start + edge, now - self.retention))
        until = ms_timestamp(end + dt.timedelta(milliseconds=1) - edge)
        function_sid = request.param("FunctionSid")
        token = request.param("PageToken")
        served = 0
        cursor = None
        size = page_size(request)
        if token:
            decoded = decode_token(token)
            timestamp, rest = decoded.key
            sid, _, count = rest.partition(".")
            if not count.isdigit():
                raise twilio_error(400, 20001, f"Invalid PageToken: {token}")
            cursor = PageCursor((timestamp, sid), decoded.size)
            # A previous page's token is made from its next page's first log, `size` further on.
            served = int(count) if decoded.size is None else max(0, int(count) - 2 * size)
        echoed = {
            name: request.param(name) or ""
            for name in ("StartDate", "EndDate", "FunctionSid")
            if request.param(name) is not None
        }
        with self._lock:
            store = self.logs[(account, found["sid"])]
            matching = store.newest_first(since, until, cursor)
            if function_sid is not None:
                matching = (record for record in matching if record["function_sid"] == function_sid)
            page = twilio_page(
                self.emulator,
                request,
                itertools.islice(matching, max(0, self.result_cap - served)),
                key="logs",
                cursor=lambda record: (store.key(record)[0], f"{record['sid']}.{served + size}"),
                filters=echoed,
            )
            cut = page.body["meta"]["next_page_url"] is None and next(matching, None) is not None
            if cut:
                self.capped_queries += 1
        random.Random(request.url).shuffle(page.body["logs"])
        return page

    def _check_rate(self, account: str, url: str) -> None:
        """5 Logs requests per account in any second; more answer 429 (20429)."""
        arrived = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(account, collections.deque())
            while recent and recent[0] <= arrived - self.rate_period:
                recent.popleft()
            allowed = len(recent) < self.rate_limit
            if allowed:
                recent.append(arrived)
            self.log_requests.append(LogRequest(arrived, url, 200 if allowed else 429))
        if not allowed:
            error = twilio_error(429, 20429, "Too Many Requests")
            error.response.headers["Retry-After"] = "1"
            raise error

    @property
    def rate_limited(self) -> int:
        """Logs requests this emulator refused with 429 for going over the rate limit."""
        return sum(1 for request in self.log_requests if request.status == 429)
