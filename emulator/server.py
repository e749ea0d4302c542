"""A local emulator of the Twilio and Telnyx APIs the tap reads, over real HTTP.

One threaded HTTP server serves every API (their paths do not collide), with generated data,
the APIs' documented quirks, their error formats, credentials checks, and switchable faults.
Request limits across APIs (Twilio's concurrency per account, Telnyx's rate per API key) are
switches too, off by default: `twilio_concurrency_limit`, `telnyx_rate_limit` (emulator/limits.py).
Each API lives in its own module as a class with `routes`; `Emulator` mounts them.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import email.utils
import gzip
import re
import socket
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from emulator.accounts import AccountsAPI
from emulator.http import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_API_KEY_SECRET,
    DEFAULT_API_KEY_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_TELNYX_API_KEY,
    RETENTION_ANSWERS,
    HTTPError,
    Request,
    Response,
    telnyx_error,
    twilio_error,
    utc_now,
)
from emulator.limits import TelnyxRateLimit, TwilioConcurrency
from emulator.monitor import MonitorAPI
from emulator.serverless import ServerlessAPI
from emulator.taskrouter import TaskRouterAPI
from emulator.telnyx import TelnyxAPI

#: What the `undated` fault sets to null: every API's replication key.
UNDATED_FIELDS = frozenset({"event_date", "date_created", "created_at"})


@dataclass
class Fault:
    """One switchable fault: applies to the next `times` requests whose path starts with `path`.

    kinds: `status` (an error answer with `status`, `code`, optional `retry_after`),
    `truncate` (200 with half the body), `not_json` (200 with an HTML body), `no_records`
    (200 with JSON that holds no records), `undated` (the first record's replication key, or
    `fields`, null, `value` or missing),
    `reset` (connection closed without an answer), `cut` (connection closed halfway through the
    body), `delay` (answer after `delay` seconds), `trickle` (headers, then the body a byte every
    `delay` seconds: each read is quick, the whole answer never ends), `stall` (headers and half
    the body, then nothing for `delay` seconds, the connection kept open, then closed).
    The first `skip` matching requests are answered normally.
    """

    path: str
    kind: str = "status"
    times: int = 1
    status: int = 503
    code: int | str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    skip: int = 0
    #: Send Retry-After as an HTTP date this many seconds after the answer.
    retry_after_date_in: float | None = None
    #: A `Location` header (with a 3xx `status`: a redirect).
    location: str | None = None
    #: The `undated` fault: which fields of the first record (default: the replication keys), set to
    #: `value` (null by default, or text that is no timestamp), or removed when `remove` is set.
    fields: frozenset[str] | None = None
    value: t.Any = None
    remove: bool = False


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, path: str, kind: str = "status", times: int = 1, **kwargs: t.Any) -> Fault:
        fault = Fault(path=path, kind=kind, times=times, **kwargs)
        with self._lock:
            self._faults.append(fault)
        return fault

    def put_back(self, fault: Fault) -> None:
        with self._lock:
            fault.times += 1

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path) and fault.times > 0:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None


@dataclass
class SeenRequest:
    method: str
    url: str
    headers: dict[str, str]
    status: int = 0
    #: When it arrived and when its answer was sent (`time.monotonic`): which requests overlapped.
    at: float = field(default_factory=time.monotonic)
    answered: float = 0.0


class Emulator:
    """Start with `start()` (or as a context manager); `base_url` is where it listens."""

    def __init__(
        self, *, seed: int = 7, now: dt.datetime | None = None, clock_offset_seconds: float = 0.0, **sizes: t.Any
    ) -> None:
        #: How far the emulated API's clock runs behind this machine's (negative: ahead): its
        #: present (`clock`), the data it makes around it, and the `Date` header of its answers.
        self.clock_offset_seconds = clock_offset_seconds
        self.now = now or utc_now() - dt.timedelta(seconds=clock_offset_seconds)
        self._started = time.monotonic()
        self.seed = seed
        self.twilio_accounts: dict[str, str] = {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN}
        self.twilio_api_keys: dict[str, tuple[str, str]] = {
            DEFAULT_API_KEY_SID: (DEFAULT_API_KEY_SECRET, DEFAULT_ACCOUNT_SID)
        }
        self.telnyx_api_keys: dict[str, str] = {DEFAULT_TELNYX_API_KEY: "org-emulator"}
        #: Accounts whose every credential (auth token, API keys) is refused: 401, Twilio error 20003.
        self.revoked_twilio_accounts: set[str] = set()
        self.faults = Faults()
        self.seen: list[SeenRequest] = []
        #: Where next_page_url links point; tests set another origin to test host pinning.
        self.link_origin: str | None = None
        #: When set, Twilio lists send the reader from their third page back to the second.
        self.cycle_next_page_url = False
        self.second_page_url: str | None = None
        #: Seconds added to every answer, to make a run slow enough to interrupt.
        self.latency = 0.0
        #: How an answer's body is framed: "content-length" (as is), "gzip" (compressed when the
        #: request accepts it, as Twilio's and Telnyx's edges do) or "chunked" (no Content-Length).
        self.answer_framing = "content-length"
        #: Requests being answered now, and the most there were at once.
        self.in_flight = 0
        self.peak_in_flight = 0
        #: Records served in 200 answers, per endpoint path: what a reader is billed for.
        self.records_sent: collections.Counter[str] = collections.Counter()
        self._in_flight_lock = threading.Lock()
        #: The switches `twilio_concurrency_limit` and `telnyx_rate_limit` (emulator/limits.py).
        self._twilio_concurrency = TwilioConcurrency()
        self._telnyx_rate_limit = TelnyxRateLimit(lambda: self.clock().timestamp())
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self.monitor = MonitorAPI(self, **sizes)
        self.taskrouter = TaskRouterAPI(self, **sizes)
        self.serverless = ServerlessAPI(self, **sizes)
        self.telnyx = TelnyxAPI(self, **sizes)
        #: Api v2010 Accounts: subaccounts, their statuses and tokens (emulator/accounts.py).
        self.accounts = AccountsAPI(self)
        self.apis: list[MonitorAPI | TaskRouterAPI | ServerlessAPI | TelnyxAPI | AccountsAPI] = [
            self.monitor,
            self.taskrouter,
            self.serverless,
            self.telnyx,
            self.accounts,
        ]
        self.routes: list[tuple[str, re.Pattern[str], t.Callable[..., Response]]] = [
            (method, re.compile(pattern + r"/?$"), handler)
            for api in self.apis
            for method, pattern, handler in api.routes()
        ]

    # ---- lifecycle -----------------------------------------------------------------------

    def clock(self) -> dt.datetime:
        """The emulated present: `now`, moving on with real time (retention limits follow it)."""
        return self.now + dt.timedelta(seconds=time.monotonic() - self._started)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_origin(self) -> str:
        return self.link_origin or self.base_url

    def start(self, port: int = 0) -> Emulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written apart: with Nagle's algorithm a small body waits for
            # the client's delayed ACK of the headers, 40 ms per small answer on Linux loopback.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                emulator.handle(self)

            def date_time_string(self, timestamp: float | None = None) -> str:
                """The `Date` header by the API's clock (`clock_offset_seconds`), not this machine's."""
                when = emulator.clock().timestamp() if timestamp is None else timestamp
                return email.utils.formatdate(when, usegmt=True)

            def log_message(self, format: str, *args: t.Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # Polls for `stop` every 50 ms (the default 0.5 s would hold each test up half a second).
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tap_config(self, **overrides: t.Any) -> dict[str, t.Any]:
        """Settings that point every API of the tap at this emulator."""
        config: dict[str, t.Any] = {
            "twilio_account_sid": DEFAULT_ACCOUNT_SID,
            "twilio_auth_token": DEFAULT_AUTH_TOKEN,
            "telnyx_api_key": DEFAULT_TELNYX_API_KEY,
            "twilio_monitor_base_url": self.base_url,
            "twilio_taskrouter_base_url": self.base_url,
            "twilio_serverless_base_url": self.base_url,
            "telnyx_base_url": self.base_url,
            "twilio_api_base_url": self.base_url,
        }
        config.update(overrides)
        return {key: value for key, value in config.items() if value is not None}

    # ---- request handling ----------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._in_flight_lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            self._answer(handler)
        finally:
            with self._in_flight_lock:
                self.in_flight -= 1

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in handler.headers.items()},
            url=f"{self.base_url}{handler.path}",
        )
        seen = SeenRequest(request.method, request.url, dict(handler.headers.items()))
        self.seen.append(seen)
        try:
            self._answer_seen(handler, request, seen)
        finally:
            seen.answered = time.monotonic()

    def _answer_seen(self, handler: BaseHTTPRequestHandler, request: Request, seen: SeenRequest) -> None:
        with contextlib.ExitStack() as limits:
            try:
                limit_headers = self._enter_limits(request, limits)
            except HTTPError as refusal:  # answered at once: no latency, no fault
                seen.status = refusal.response.status
                self._send(handler, request, refusal.response, refusal.response.encode())
                return
            fault = self.faults.take(request.path)
            if fault and fault.kind == "reset":
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault and fault.kind == "delay":
                time.sleep(fault.delay)
            if self.latency:
                time.sleep(self.latency)
            response = self.dispatch(request, fault)
            response.headers.update(limit_headers)
            seen.status = response.status
            self._count_records_sent(request.path, response)
            if fault and fault.kind == "undated":
                records = next(value for value in response.body.values() if isinstance(value, list))
                if records:
                    changed = (fault.fields or UNDATED_FIELDS).intersection(records[0])
                    first = {**records[0], **dict.fromkeys(changed, fault.value)}
                    records[0] = {k: v for k, v in first.items() if k not in changed} if fault.remove else first
                else:
                    self.faults.put_back(fault)  # for the next answer that has records
            body = response.encode()
            if fault and fault.kind == "truncate":
                body = body[: max(1, len(body) // 2)]
            elif fault and fault.kind == "not_json":
                body = b"<html><body>502 Bad Gateway</body></html>"
            elif fault and fault.kind == "no_records":
                body = b'{"message": "Service temporarily in maintenance"}'
        # Out of the limits before the answer leaves: a client that sends its next request as soon
        # as it has this answer is never refused for this one.
        pace = fault if fault and fault.kind in ("trickle", "stall") else None
        self._send(handler, request, response, body, whole=not (fault and fault.kind == "cut"), pace=pace)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        request: Request,
        response: Response,
        body: bytes,
        *,
        whole: bool = True,
        pace: Fault | None = None,
    ) -> None:
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", "application/json")
            for key, value in response.headers.items():
                handler.send_header(key, value)
            if pace is not None:
                self._write_slowly(handler, body, pace)
            else:
                self._write_body(handler, request, body, whole=whole)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _enter_limits(self, request: Request, limits: contextlib.ExitStack) -> dict[str, str]:
        """Count the request against its account's or API key's limit (until `limits` closes,
        when the answer is ready to be written); the headers that report it, or the refusal (HTTPError)."""
        header = request.headers.get("authorization", "")
        if request.path.startswith("/v2/"):
            api_key = header.removeprefix("Bearer ")
            known = header.startswith("Bearer ") and api_key in self.telnyx_api_keys
            return self._telnyx_rate_limit.check(api_key) if known else {}
        account = self._twilio_credential_owner(header)
        return limits.enter_context(self._twilio_concurrency.request(account)) if account else {}

    # ---- limits --------------------------------------------------------------------------

    @property
    def twilio_concurrency_limit(self) -> int | None:
        """Requests one Twilio account may have in flight across every Twilio API (None: no
        limit); one more is answered at once with 429, error 20429 (emulator/limits.py)."""
        return self._twilio_concurrency.limit

    @twilio_concurrency_limit.setter
    def twilio_concurrency_limit(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"a concurrency limit must be at least 1, not {limit}")
        self._twilio_concurrency.limit = limit

    def twilio_peak_in_flight(self, account_sid: str = DEFAULT_ACCOUNT_SID) -> int:
        """The most Twilio requests of the account in flight at once (refused ones included)."""
        return self._twilio_concurrency.peak[account_sid]

    def twilio_concurrency_refusals(self, account_sid: str = DEFAULT_ACCOUNT_SID) -> int:
        """Twilio requests of the account refused with 429 (20429) for its concurrency limit."""
        return self._twilio_concurrency.refusals[account_sid]

    @property
    def telnyx_rate_limit(self) -> tuple[int, float] | None:
        """(requests, window seconds) per Telnyx API key, reported in `x-ratelimit-*` headers;
        over it, 429 with error 10011. None: no limit and no such headers (emulator/limits.py)."""
        return self._telnyx_rate_limit.limit

    @telnyx_rate_limit.setter
    def telnyx_rate_limit(self, limit: tuple[int, float] | None) -> None:
        if limit is not None and (limit[0] < 1 or limit[1] <= 0):
            raise ValueError(f"a rate limit needs at least 1 request in a positive window, not {limit}")
        self._telnyx_rate_limit.limit = limit

    @property
    def limits_send_retry_after(self) -> bool:
        """Whether the 429s of both limits carry `Retry-After` (neither vendor says; default False)."""
        return self._twilio_concurrency.retry_after

    @limits_send_retry_after.setter
    def limits_send_retry_after(self, value: bool) -> None:
        self._twilio_concurrency.retry_after = self._telnyx_rate_limit.retry_after = value

    def telnyx_rate_limit_refusals(self, api_key: str = DEFAULT_TELNYX_API_KEY) -> int:
        """Telnyx requests of the API key refused with 429 (10011) for its rate limit."""
        return self._telnyx_rate_limit.refusals[api_key]

    def _write_body(self, handler: BaseHTTPRequestHandler, request: Request, body: bytes, *, whole: bool) -> None:
        """The body framed as `answer_framing` says. A body not `whole` (the `cut` fault: the
        connection breaks mid-answer) stops halfway: its Content-Length promises more, or its
        last chunk never comes."""
        if self.answer_framing == "gzip" and "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip.compress(body, mtime=0)
            handler.send_header("Content-Encoding", "gzip")
        length = len(body)
        if not whole:
            body = body[: length // 2]
        if self.answer_framing != "chunked":
            handler.send_header("Content-Length", str(length))
            handler.end_headers()
            handler.wfile.write(body)
        else:
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for start in range(0, len(body), 1 << 16):
                chunk = body[start : start + (1 << 16)]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if whole:
                handler.wfile.write(b"0\r\n\r\n")
        if not whole:
            handler.close_connection = True
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)

    def _write_slowly(self, handler: BaseHTTPRequestHandler, body: bytes, fault: Fault) -> None:
        """The `trickle` and `stall` faults: an answer that never ends, though the connection lives."""
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        if fault.kind == "stall":
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            time.sleep(fault.delay)
        else:
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                time.sleep(fault.delay)
        handler.close_connection = True

    def _count_records_sent(self, path: str, response: Response) -> None:
        if response.status != 200 or not isinstance(response.body, dict):
            return
        sent = sum(len(value) for value in response.body.values() if isinstance(value, list))
        with self._in_flight_lock:
            self.records_sent[path] += sent

    def dispatch(self, request: Request, fault: Fault | None) -> Response:
        try:
            if fault and fault.kind == "status":
                raise self.fault_error(request, fault)
            for method, pattern, route in self.routes:
                match = pattern.match(request.path)
                if match and method == request.method:
                    return route(request, **match.groupdict())
            if request.path.startswith("/v2/"):
                raise telnyx_error(404, "10005", "Resource not found", f"{request.path} was not found")
            raise twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        except HTTPError as error:
            return error.response

    @staticmethod
    def fault_error(request: Request, fault: Fault) -> HTTPError:
        if request.path.startswith("/v2/"):
            error = telnyx_error(fault.status, str(fault.code or fault.status), "Injected fault", "")
        else:
            code = int(fault.code or (20429 if fault.status == 429 else 20500))
            error = twilio_error(fault.status, code, "Injected fault")
        if fault.retry_after is not None:
            error.response.headers["Retry-After"] = fault.retry_after
        if fault.location is not None:
            error.response.headers["Location"] = fault.location
        if fault.retry_after_date_in is not None:
            when = time.time() + fault.retry_after_date_in
            error.response.headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
        return error

    def answer_old_queries(self, answer: str) -> None:
        """Every API answers a query older than it keeps with `answer` ("trim" or "refuse")."""
        if answer not in RETENTION_ANSWERS:
            raise ValueError(f"retention answer must be one of {RETENTION_ANSWERS}, not {answer!r}")
        for api in self.apis:
            api.retention_answer = answer

    # ---- credentials ---------------------------------------------------------------------

    def add_twilio_account(self, account_sid: str, auth_token: str) -> None:
        """Another account (a subaccount, say) with its own credential and its own data in every API."""
        self.twilio_accounts[account_sid] = auth_token
        for api in self.apis:
            if hasattr(api, "add_account"):
                api.add_account(account_sid)

    def add_twilio_subaccount(
        self,
        account_sid: str,
        auth_token: str,
        *,
        owner: str = DEFAULT_ACCOUNT_SID,
        status: str = "active",
        friendly_name: str | None = None,
    ) -> None:
        """A subaccount of `owner`, listed by its Accounts API, with its own token and data; one not
        `active` has its credentials refused (401, error 20005)."""
        self.add_twilio_account(account_sid, auth_token)
        self.accounts.add_subaccount(account_sid, owner, status, friendly_name or f"customer {account_sid[-6:]}")

    def revoke_twilio_account(self, account_sid: str) -> None:
        """Refuse the account's auth token and API keys from now on (a revoked or suspended
        subaccount), while the other accounts keep working."""
        self.revoked_twilio_accounts.add(account_sid)

    def twilio_account(self, request: Request) -> str:
        """The account a Twilio request authenticates as, or 401 with Twilio's error 20003."""
        account = self._twilio_credential_owner(request.headers.get("authorization", ""))
        if account is None or account in self.revoked_twilio_accounts:
            raise twilio_error(401, 20003, "Authenticate")
        if self.accounts.accounts.get(account, None) and self.accounts.accounts[account].status != "active":
            raise twilio_error(401, 20005, "Account not active")
        return account

    def _twilio_credential_owner(self, header: str) -> str | None:
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        if self.twilio_accounts.get(user) == password and password:
            return user
        key = self.twilio_api_keys.get(user)
        return key[1] if key and key[0] == password else None

    def revoke_telnyx_api_key(self, api_key: str) -> None:
        """Refuse this API key from now on: 401 with Telnyx's error 10009."""
        self.telnyx_api_keys.pop(api_key, None)

    def telnyx_organization(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer ") and header[7:] in self.telnyx_api_keys:
            return self.telnyx_api_keys[header[7:]]
        raise telnyx_error(401, "10009", "Authentication failed", "The API key you provided is not valid.")
