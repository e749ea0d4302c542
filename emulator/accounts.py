"""Twilio's Api v2010 Accounts: /2010-04-01/Accounts.json and /2010-04-01/Accounts/{Sid}.json.

- The list holds the account making the request and its subaccounts (a subaccount sees only
  itself); `Status` filters it (`active`, `suspended`, `closed`), `PageSize` is 1 to 1000,
  and `next_page_uri` is relative to api.twilio.com, as Api v2010 pages are.
- Items as Twilio's `api.v2010.account` schema has them: `auth_token`, `date_created` and
  `date_updated` (RFC 2822), `friendly_name`, `owner_account_sid`, `sid`, `status`,
  `subresource_uris`, `type`, `uri`.
- Whether a list answer fills `auth_token` is not documented. `auth_token_filled_by` plays both
  readings: "list" (the list fills it for an auth-token caller) or "fetch" (the list leaves it
  empty, fetching the one account fills it). An API key gets it empty either way, unless
  `api_keys_get_auth_token` (the third reading reported is that they get it empty).
- `withhold_auth_token(sid)`: that account's token is never given (its credentials cannot be had).
- `malformed_item`: the list's first subaccount is given as something Twilio's schema does not
  allow: "not_an_object" (its SID, a bare string) or "owner_not_a_string" (`owner_account_sid`
  a number); None: as the schema has it.
- `page_size_cap`: at most this many accounts per page whatever `PageSize` asks (None: as asked),
  so that a reader's paging is tested without a thousand subaccounts.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import typing as t
from dataclasses import dataclass
from urllib.parse import urlencode

from emulator.http import DEFAULT_ACCOUNT_SID, Request, Response, twilio_error
from emulator.twilio import page_size

if t.TYPE_CHECKING:
    from emulator.server import Emulator

STATUSES = ("active", "suspended", "closed")
AUTH_TOKEN_READINGS = ("list", "fetch")
LIST_PATH = "/2010-04-01/Accounts.json"


@dataclass
class EmulatedAccount:
    sid: str
    owner_account_sid: str
    friendly_name: str
    status: str
    date_created: dt.datetime


class AccountsAPI:
    name = "accounts"

    def __init__(self, emulator: Emulator, **_: t.Any) -> None:
        self.emulator = emulator
        #: Set by `Emulator.answer_old_queries` like every API's; this one has no dated queries.
        self.retention_answer = "trim"
        self.auth_token_filled_by: t.Literal["list", "fetch"] = "list"
        self.api_keys_get_auth_token = False
        self.withheld: set[str] = set()
        self.page_size_cap: int | None = None
        self.malformed_item: t.Literal["not_an_object", "owner_not_a_string"] | None = None
        created = emulator.now - dt.timedelta(days=400)
        self.accounts: dict[str, EmulatedAccount] = {
            DEFAULT_ACCOUNT_SID: EmulatedAccount(DEFAULT_ACCOUNT_SID, DEFAULT_ACCOUNT_SID, "Parent", "active", created)
        }

    def routes(self) -> list[tuple[str, str, t.Callable[..., Response]]]:
        return [
            ("GET", r"/2010-04-01/Accounts\.json", self.list_accounts),
            ("GET", r"/2010-04-01/Accounts/(?P<account_sid>AC[0-9a-fA-F]{32})\.json", self.fetch_account),
        ]

    # ---- data ----------------------------------------------------------------------------

    def add_subaccount(self, sid: str, owner: str, status: str, friendly_name: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        created = self.emulator.now - dt.timedelta(days=30) + dt.timedelta(minutes=len(self.accounts))
        self.accounts[sid] = EmulatedAccount(sid, owner, friendly_name, status, created)

    def withhold_auth_token(self, sid: str) -> None:
        self.withheld.add(sid)

    # ---- handlers ------------------------------------------------------------------------

    def _caller(self, request: Request) -> tuple[str, bool]:
        """The account the request authenticates as, and whether it used an API key."""
        account = self.emulator.twilio_account(request)
        user = base64.b64decode(request.headers["authorization"][6:]).decode().partition(":")[0]
        return account, user.startswith("SK")

    def _visible(self, caller: str) -> list[EmulatedAccount]:
        return sorted(
            (a for a in self.accounts.values() if a.sid == caller or a.owner_account_sid == caller),
            key=lambda a: (a.date_created, a.sid),
        )

    def _item(self, account: EmulatedAccount, *, token: bool) -> dict[str, t.Any]:
        filled = token and account.sid not in self.withheld
        uri = f"/2010-04-01/Accounts/{account.sid}"
        return {
            "auth_token": self.emulator.twilio_accounts.get(account.sid, "") if filled else "",
            "date_created": email.utils.format_datetime(account.date_created, usegmt=True),
            "date_updated": email.utils.format_datetime(account.date_created, usegmt=True),
            "friendly_name": account.friendly_name,
            "owner_account_sid": account.owner_account_sid,
            "sid": account.sid,
            "status": account.status,
            "subresource_uris": {
                "calls": f"{uri}/Calls.json",
                "keys": f"{uri}/Keys.json",
                "messages": f"{uri}/Messages.json",
            },
            "type": "Full",
            "uri": f"{uri}.json",
        }

    def _listed(self, account: EmulatedAccount, *, token: bool) -> t.Any:
        item = self._item(account, token=token)
        first = next((a for a in self.accounts.values() if a.sid != a.owner_account_sid), None)
        if self.malformed_item is None or account is not first:
            return item
        if self.malformed_item == "not_an_object":
            return account.sid
        return {**item, "owner_account_sid": 42}

    def list_accounts(self, request: Request) -> Response:
        caller, api_key = self._caller(request)
        status = request.param("Status")
        if status is not None and status not in STATUSES:
            raise twilio_error(400, 20001, f"Invalid Status: {status}")
        size = min(page_size(request), self.page_size_cap or 1000)
        raw_page = request.param("Page") or "0"
        if not raw_page.isdigit():
            raise twilio_error(400, 20001, f"Invalid Page: {raw_page}")
        page = int(raw_page)
        matching = [a for a in self._visible(caller) if status is None or a.status == status]
        token = request.param("PageToken")
        start = 0
        if token:
            sids = [a.sid for a in matching]
            if not token.startswith("PA") or token[2:] not in sids:
                raise twilio_error(400, 20001, f"Invalid PageToken: {token}")
            start = sids.index(token[2:]) + 1
        items = matching[start : start + size]
        filled = self.auth_token_filled_by == "list" and (not api_key or self.api_keys_get_auth_token)
        filters = {"Status": status} if status else {}

        def uri(page_number: int, page_token: str | None = None) -> str:
            params = {**filters, "PageSize": size, "Page": page_number}
            if page_token:
                params["PageToken"] = page_token
            return f"{LIST_PATH}?{urlencode(params)}"

        more = start + size < len(matching)
        return Response(
            200,
            {
                "accounts": [self._listed(account, token=filled) for account in items],
                "end": page * size + max(len(items) - 1, 0),
                "first_page_uri": uri(0),
                "next_page_uri": uri(page + 1, "PA" + items[-1].sid) if more and items else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": uri(page - 1) if page > 0 else None,
                "start": page * size,
                "uri": uri(page, token),
            },
        )

    def fetch_account(self, request: Request, account_sid: str) -> Response:
        caller, api_key = self._caller(request)
        account = self.accounts.get(account_sid)
        if account is None or caller not in (account.sid, account.owner_account_sid):
            raise twilio_error(
                404, 20404, f"The requested resource /2010-04-01/Accounts/{account_sid}.json was not found"
            )
        return Response(200, self._item(account, token=not api_key or self.api_keys_get_auth_token))
