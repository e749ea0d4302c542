"""Subaccounts found at run time (`twilio_subaccounts`), and every Twilio account a run reads.

Monitor, TaskRouter and Serverless accept a subaccount's own credentials only, so each
subaccount's auth token is asked of Twilio's Api v2010 with the parent's SID and auth token,
when the first Twilio stream starts: from the Accounts list when its answer carries the token,
else by fetching `/2010-04-01/Accounts/{Sid}.json` (Twilio does not say which answer fills it).
The tokens live in this process's memory only (`TwilioAccount.password`, never in a repr,
a log line, an error, STATE or a record) and go to the configured Twilio hosts only: the
parent's auth token to `twilio_api_base_url`, a subaccount's to the v1 APIs' base URLs.

Only the accounts of the run's shard (shards.py) are kept, and only their tokens are fetched.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import backoff
import requests

from tap_events.pagination import origin
from tap_events.shards import Shard, configured_shard
from tap_events.twilio import TwilioAccount, twilio_accounts

if t.TYPE_CHECKING:
    from tap_events.report import RunReport

SETTING = "twilio_subaccounts"
#: How the run report and the log name the discovery of subaccounts (a stream of its own there).
DISCOVERY = "twilio_subaccounts"
SID = re.compile(r"AC[0-9a-fA-F]{32}")
LIST_URI = "/2010-04-01/Accounts.json?PageSize=1000"
#: Statuses that are not read: skipped and named in the run report.
NOT_READ = ("suspended", "closed")
Selection = t.Union[t.Literal["none", "all"], list[str]]  # noqa: UP007 (a runtime alias)


class SelectionError(ValueError):
    """`twilio_subaccounts` is malformed (the message names the setting, never a secret)."""


def subaccount_selection(config: t.Mapping[str, t.Any]) -> Selection:
    """`none`, `all`, or the SIDs listed: as a JSON list, or a string of SIDs (a JSON list, or
    separated by commas or spaces), as an environment variable carries it."""
    value = config.get(SETTING)
    if value is None:
        return "none"
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none"):
            return "none"
        if text.lower() == "all":
            return "all"
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise SelectionError(f"{SETTING} is neither 'none', 'all' nor a JSON list of SIDs.") from None
        else:
            value = [part for part in re.split(r"[\s,]+", text) if part]
    if not isinstance(value, list) or not all(isinstance(sid, str) for sid in value):
        raise SelectionError(f"{SETTING} must be 'none', 'all' or a list of subaccount SIDs.")
    return [sid.strip() for sid in value]


def selection_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Problems with `twilio_subaccounts`, before any request: the refusal of a parent that has
    no auth token says what works instead."""
    try:
        selection = subaccount_selection(config)
    except SelectionError as error:
        return [str(error)]
    if selection == "none":
        return []
    errors = []
    if isinstance(selection, list):
        if not selection:
            errors.append(f"{SETTING} is an empty list: set 'none', 'all' or some SIDs.")
        bad = [sid for sid in selection if not SID.fullmatch(sid)]
        if bad:
            errors.append(f"{SETTING} entries must be 'AC' followed by 32 hexadecimal characters ({len(bad)} are not).")
    if not config.get("twilio_account_sid"):
        errors.append(f"{SETTING} needs twilio_account_sid: the parent account whose subaccounts are read.")
    elif not config.get("twilio_auth_token"):
        errors.append(
            f"{SETTING} needs twilio_auth_token, the parent's auth token: Twilio gives a subaccount's "
            "credentials only to its parent's auth token, not to an API key, and the Monitor, TaskRouter "
            "and Serverless APIs accept only the subaccount's own. Set twilio_auth_token (an API key pair "
            "set as well is still used for the parent's own data), or list each subaccount in "
            "twilio_accounts with its own credentials (its auth token, or an API key made in it)."
        )
    return errors


class DiscoveryError(Exception):
    """The Accounts API could not be read: the message names the request and Twilio's error."""


class _Retriable(DiscoveryError):
    pass


@dataclass
class Found:
    """What discovery found in the run's shard."""

    readable: list[TwilioAccount] = field(default_factory=list)
    #: SID -> status, for subaccounts suspended or closed.
    not_active: dict[str, str] = field(default_factory=dict)
    #: SID -> why its credentials could not be had.
    unavailable: dict[str, str] = field(default_factory=dict)


class AccountsClient:
    """GETs on Twilio's Api v2010 with the parent's SID and auth token, on the configured host only."""

    def __init__(self, base_url: str, account_sid: str, auth_token: str, *, timeout: float, retries: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        self.session.auth = (account_sid, auth_token)
        self.session.trust_env = False  # no .netrc or proxy credentials in the way

    def close(self) -> None:
        """Its connections, once the accounts are known (the run goes on for hours without them)."""
        self.session.close()

    def get(self, uri: str) -> dict[str, t.Any]:
        """A URI relative to the base URL (as `next_page_uri` is), or absolute on its host only."""
        url = urljoin(self.base_url + "/", uri)
        if origin(url) != self.origin:
            where = urlsplit(url)
            msg = f"{DISCOVERY}: Twilio linked {where.scheme}://{where.netloc}, not twilio_api_base_url: not followed"
            raise DiscoveryError(msg)
        retried = backoff.on_exception(
            backoff.expo, _Retriable, max_tries=self.retries + 1, max_time=300, max_value=60, logger=None
        )(self._get_once)
        return t.cast("dict[str, t.Any]", retried(url))

    def _get_once(self, url: str) -> dict[str, t.Any]:
        line = f"GET {urlsplit(url).path}"
        try:
            response = self.session.get(url, timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise _Retriable(f"{DISCOVERY}: {line} failed: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retriable(self._refusal(line, response))
        if status != 200:
            error = DiscoveryError(self._refusal(line, response))
            error.status = status  # type: ignore[attr-defined]
            raise error
        try:
            body = response.json()
        except ValueError:
            raise _Retriable(f"{DISCOVERY}: {line} answered HTTP 200 with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise _Retriable(f"{DISCOVERY}: {line} answered HTTP 200 without a JSON object")
        return body

    @staticmethod
    def _refusal(line: str, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        error = f"Twilio error {code}" if code is not None else "no Twilio error code"
        if message:
            error += f": {message}"
        return f"{DISCOVERY}: {line} answered HTTP {response.status_code} ({error})"


def discover(client: AccountsClient, parent_sid: str, selection: Selection, shard: Shard, workers: int) -> Found:
    """The subaccounts selected, in `shard`, with their tokens; raises DiscoveryError when the list cannot be read."""
    listed: dict[str, dict[str, t.Any]] = {}
    uri: str | None = LIST_URI
    followed: set[str] = set()
    while uri:
        if uri in followed:
            raise DiscoveryError(f"{DISCOVERY}: the Accounts list links back to a page already read: not followed")
        followed.add(uri)
        page = client.get(uri)
        items = page.get("accounts")
        if not isinstance(items, list):
            raise DiscoveryError(f"{DISCOVERY}: GET /2010-04-01/Accounts.json answered without an 'accounts' list")
        for item in items:
            sid, owner = _sid_and_owner(item, uri)
            # The list holds the parent itself too, and only its subaccounts otherwise.
            if sid and sid.lower() != parent_sid.lower() and (not owner or owner.lower() == parent_sid.lower()):
                listed[sid.lower()] = item
        next_uri = page.get("next_page_uri")
        uri = str(next_uri) if next_uri else None
    wanted = [str(item["sid"]) for item in listed.values()] if selection == "all" else list(dict.fromkeys(selection))
    found = Found()
    to_fetch: list[str] = []
    items_by_sid: dict[str, dict[str, t.Any]] = {}
    for sid in wanted:
        if sid.lower() == parent_sid.lower() or not shard.holds(sid):
            continue
        item = listed.get(sid.lower())
        if item is None or (item.get("status") == "active" and not item.get("auth_token")):
            # Not listed (a list of SIDs may name one), or listed without its token: asked for by SID.
            to_fetch.append(sid)
        else:
            items_by_sid[sid] = item

    def fetch(sid: str) -> tuple[str, dict[str, t.Any] | str]:
        try:
            return sid, client.get(f"/2010-04-01/Accounts/{sid}.json")
        except DiscoveryError as error:
            if getattr(error, "status", None) == 404:
                return sid, f"not a subaccount of {parent_sid}, or closed more than 30 days ago ({error})"
            return sid, str(error)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for sid, answer in pool.map(fetch, to_fetch):
            if isinstance(answer, str):
                found.unavailable[sid] = answer
            else:
                items_by_sid[sid] = answer
    for sid in wanted:
        item = items_by_sid.get(sid)
        if item is None:
            continue
        status = str(item.get("status") or "")
        if status != "active":
            found.not_active[sid] = status or "no status"
        elif not item.get("auth_token"):
            found.unavailable[sid] = "Twilio gave no auth token for it to the parent's credentials"
        else:
            found.readable.append(TwilioAccount(str(item["sid"]), str(item["sid"]), str(item["auth_token"])))
    return found


def _sid_and_owner(item: t.Any, uri: str) -> tuple[str, str | None]:
    """An item of the Accounts list: its SID ("" when it has none) and owner, or DiscoveryError
    naming the request when it is not an account as Twilio's schema has it."""
    line = f"GET {urlsplit(uri).path}"
    if not isinstance(item, dict):
        raise DiscoveryError(f"{DISCOVERY}: {line} answered with an item of 'accounts' that is not a JSON object")
    sid, owner = item.get("sid"), item.get("owner_account_sid")
    for name, value in (("sid", sid), ("owner_account_sid", owner)):
        if value is not None and not isinstance(value, str):
            raise DiscoveryError(f"{DISCOVERY}: {line} answered with an account whose {name} is not a string")
    return sid or "", owner


class TwilioDirectory:
    """Every Twilio account of the run, in its shard: the configured ones, and the subaccounts
    found when the first Twilio stream asks (once per run, whichever stream asks first)."""

    def __init__(self, config: t.Mapping[str, t.Any], report: RunReport, logger: logging.Logger) -> None:
        self.config, self.report, self.logger = config, report, logger
        self._lock = threading.Lock()
        self._accounts: dict[str, TwilioAccount] | None = None

    def accounts(self) -> dict[str, TwilioAccount]:
        with self._lock:
            if self._accounts is None:
                self._accounts = self._collect()
            return self._accounts

    def _collect(self) -> dict[str, TwilioAccount]:
        shard = configured_shard(self.config)
        accounts = {a.account_sid: a for a in twilio_accounts(self.config) if shard.holds(a.account_sid)}
        selection = subaccount_selection(self.config)
        if selection == "none":
            return accounts
        parent = str(self.config["twilio_account_sid"])
        client = AccountsClient(
            str(self.config.get("twilio_api_base_url") or "https://api.twilio.com"),
            parent,
            str(self.config["twilio_auth_token"]),
            timeout=float(self.config.get("request_timeout_seconds", 60)),
            retries=int(self.config.get("max_request_retries", 8)),
        )
        try:
            found = discover(client, parent, selection, shard, int(self.config.get("max_concurrent_requests", 8)))
        except DiscoveryError as error:
            self.report.failure(DISCOVERY, f"account {parent}", str(error))
            self.logger.error(
                "The subaccounts of %s could not be listed, the run goes on without them: %s", parent, error
            )
            return accounts
        finally:
            client.close()
        for sid, status in found.not_active.items():
            self.report.skipped(DISCOVERY, f"account {sid}", status)
            self.logger.warning("%s: subaccount %s is %s: skipped", DISCOVERY, sid, status)
        for sid, why in found.unavailable.items():
            self.report.skipped(DISCOVERY, f"account {sid}", "no credentials")
            self.report.failure(DISCOVERY, f"account {sid}", why)
            self.logger.error(
                "%s: the credentials of subaccount %s could not be had, it is not read: %s", DISCOVERY, sid, why
            )
        for account in found.readable:
            accounts.setdefault(account.account_sid, account)  # configured credentials come first
        self.logger.info(
            "%s: %d subaccount(s) of %s to read%s, %d skipped (not active), %d without credentials",
            DISCOVERY,
            len(found.readable),
            parent,
            f" in shard {shard}" if shard.count > 1 else "",
            len(found.not_active),
            len(found.unavailable),
        )
        return accounts
