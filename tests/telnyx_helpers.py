"""What the Telnyx tests share: a Telnyx-only config, the emulator's events, the requests it saw."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests

from emulator import Emulator
from emulator.server import DEFAULT_TELNYX_API_KEY
from emulator.telnyx import DEFAULT_ORGANIZATION, TelnyxAPI
from tests.common import TELNYX_AUDIT_EVENTS, bookmark_of, parse

PATH = "/v2/audit_events"


def millis(value: dt.datetime) -> str:
    """The tap's normalised form of a `created_at`."""
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


@contextmanager
def telnyx_emulator(**sizes: t.Any) -> Iterator[Emulator]:
    """Data that ends at noon yesterday (UTC), so that every day window holds events."""
    noon = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    with Emulator(now=noon, **sizes) as running:
        yield running


def telnyx_config(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """Telnyx only (the Twilio streams are skipped), reading from a little before the data."""
    start = emulator.now - dt.timedelta(days=3, hours=1)
    settings = {
        "twilio_account_sid": None,
        "twilio_auth_token": None,
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **overrides,
    }
    return emulator.tap_config(**settings)


def telnyx_api(emulator: Emulator) -> TelnyxAPI:
    return emulator.telnyx


def events(emulator: Emulator) -> list[dict[str, t.Any]]:
    """Every event of the default organization, ascending by (created_at, id)."""
    return list(telnyx_api(emulator).events[DEFAULT_ORGANIZATION])


def get_audit_events(
    emulator: Emulator,
    params: dict[str, t.Any] | None = None,
    *,
    api_key: str | None = DEFAULT_TELNYX_API_KEY,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return requests.get(f"{emulator.base_url}{PATH}", params=params, headers=headers, timeout=10)


def audit_requests(emulator: Emulator) -> list[dict[str, str]]:
    """The query of every audit-event request the emulator saw, in order."""
    queries = []
    for seen in emulator.seen:
        parts = urlsplit(seen.url)
        if parts.path == PATH:
            queries.append({key: values[-1] for key, values in parse_qs(parts.query).items()})
    return queries


def pages_by_query(emulator: Emulator) -> dict[tuple[str, str, str], list[int]]:
    """Page numbers asked for, per (created_after, created_before, page size) query."""
    pages: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for query in audit_requests(emulator):
        key = (
            query["filter[created_after]"],
            query["filter[created_before]"],
            query["page[size]"],
        )
        pages[key].append(int(query["page[number]"]))
    return pages


def matching(emulator: Emulator, after: str, before: str) -> list[dict[str, t.Any]]:
    """What the emulator answers for these filters, ascending."""
    return telnyx_api(emulator).events[DEFAULT_ORGANIZATION].select(parse(after), parse(before))


def bookmark(state: dict[str, t.Any]) -> str | None:
    return bookmark_of(state, TELNYX_AUDIT_EVENTS)
