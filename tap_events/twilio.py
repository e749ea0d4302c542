"""Twilio's base streams: accounts and their credentials, Basic auth, next_page_url paging, lists."""

from __future__ import annotations

import base64
import typing as t
from dataclasses import dataclass, field
from functools import cached_property

import orjson
import requests
from requests.auth import AuthBase
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_events.child_partitions import ChildPartitionsTogether
from tap_events.client import TapEventsStream
from tap_events.pagination import NextPageUrlPaginator, origin

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


@dataclass(frozen=True)
class TwilioAccount:
    """One account to read, with the credential Basic auth sends: an API key pair or the auth token."""

    account_sid: str
    username: str
    password: str = field(repr=False)

    @property
    def authorization(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def twilio_accounts(config: t.Mapping[str, t.Any]) -> list[TwilioAccount]:
    """The single-account settings and every `twilio_accounts` entry, once per account SID."""
    entries = [
        {
            "account_sid": config.get("twilio_account_sid"),
            "auth_token": config.get("twilio_auth_token"),
            "api_key_sid": config.get("twilio_api_key_sid"),
            "api_key_secret": config.get("twilio_api_key_secret"),
        },
        *(config.get("twilio_accounts") or []),
    ]
    accounts: dict[str, TwilioAccount] = {}
    for entry in entries:
        sid = entry.get("account_sid")
        if not sid or sid in accounts:
            continue
        if entry.get("api_key_sid") and entry.get("api_key_secret"):
            accounts[sid] = TwilioAccount(sid, entry["api_key_sid"], entry["api_key_secret"])
        elif entry.get("auth_token"):
            accounts[sid] = TwilioAccount(sid, sid, entry["auth_token"])
    return list(accounts.values())


class TwilioStream(TapEventsStream):
    """Twilio: Basic auth per account (auth token or API key pair), next_page_url paging.

    Every account is a partition: `account_sid` is in every context, so each account keeps
    its own bookmarks, and the request carries that account's credential.
    """

    provider = "Twilio"
    credential_hint = "the credentials were refused (check twilio_auth_token or the API key pair)"

    @cached_property
    def accounts(self) -> dict[str, TwilioAccount]:
        """The run's accounts in its shard, subaccounts found at run time included (subaccounts.py)."""
        return self.run.twilio_accounts.accounts()

    @property
    @override
    def partitions(self) -> list[dict] | None:
        if self.parent_stream_type is not None:
            return None  # contexts come from the parent stream, account_sid included
        return [{"account_sid": account_sid} for account_sid in self.accounts]

    @property
    @override
    def authenticator(self) -> AuthBase:
        return _NoAuth()  # per-account credentials are set in `get_http_request`

    @override
    def credential_of(self, context: Context | None) -> str:
        return f"Twilio account {(context or {}).get('account_sid')}"

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        context = page.stream_context or {}
        account = self.accounts.get(context.get("account_sid", "")) or next(iter(self.accounts.values()))
        request.headers = {**request.headers, "Authorization": account.authorization}
        return request

    @override
    def get_new_paginator(self) -> NextPageUrlPaginator:
        return NextPageUrlPaginator(
            origin(self.url_base), lambda: f"{self.name}: GET {self.endpoint}", self.query_stops
        )

    @override
    def reported_load(self, response: requests.Response) -> str | None:
        return response.headers.get("Twilio-Concurrent-Requests")

    @override
    def api_error(self, response: requests.Response) -> tuple[str | None, str | None]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        code = body.get("code")
        return (str(code) if code is not None else None), body.get("message")


class TwilioListStream(ChildPartitionsTogether, TwilioStream):
    """A parent list (workspaces, services) read whole on every run, filtered to `sids_setting`.

    A configured SID that no configured account lists is named once, after every account
    was listed, rather than failing the run.
    """

    #: The setting that names the SIDs to read; empty or unset reads them all.
    sids_setting: t.ClassVar[str | None] = None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: set[str] = set()
        self._accounts_listed: set[str] = set()

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"PageSize": self.config["page_size"]}

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        # SIDs' hex is not case-sensitive.
        configured = self.config.get(self.sids_setting) if self.sids_setting else None
        wanted = {str(sid).lower(): str(sid) for sid in configured or []}
        for record in super().get_records(context):
            sid = str(record.get("sid") or "").lower()
            self._listed.add(sid)
            if not wanted or sid in wanted:
                yield record
        partition = self.describe_partition(context)
        if not any(f.stream == self.name and f.partition == partition for f in self.run_report.failures):
            # Listed whole (an account that could not be listed is named at the end instead).
            self._accounts_listed.add((context or {}).get("account_sid", ""))
        if wanted and self._accounts_listed >= set(self.accounts):
            missing = sorted(original for lowered, original in wanted.items() if lowered not in self._listed)
            if missing:
                self.logger.warning(
                    "%s: %s names SIDs that no configured account lists (deleted, or of another account), skipped: %s",
                    self.name,
                    self.sids_setting,
                    ", ".join(missing),
                )


class _NoAuth(AuthBase):
    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request
