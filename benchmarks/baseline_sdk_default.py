"""The "before" reference: a plain Singer SDK tap for Monitor Events, with SDK defaults only.

    python -m benchmarks.baseline_sdk_default --config config.json > /dev/null

What a tap made from the SDK's cookiecutter would look like: a `RESTStream` with the same
schema file as tap-events, records found by the JSONPath `$.events[*]` in `response.json()`
(floats as `Decimal`), a `BaseHATEOASPaginator` on `meta.next_page_url` (whose query string
becomes the next request's parameters, as the SDK documents), HTTP Basic auth, and the SDK's
default record conformance, message writer and state handling. One partition per UTC day
(`StartDate` = `EndDate` = the day), so it sends the same requests as tap-events and the
baseline; no windows, no retries tuning, nothing tuned.

The config file is the tap's own (`twilio_monitor_base_url`, `twilio_account_sid`,
`twilio_auth_token`, `start_date`, `page_size`).
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path
from urllib.parse import ParseResult, parse_qsl

import requests
from requests.auth import HTTPBasicAuth
from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.pagination import BaseHATEOASPaginator

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "tap_events" / "schemas" / "twilio_monitor_events.json"


class NextPageUrlPaginator(BaseHATEOASPaginator):
    def get_next_url(self, response: requests.Response) -> str | None:
        return t.cast("str | None", response.json()["meta"].get("next_page_url"))


class EventsStream(RESTStream[ParseResult]):
    name = "twilio_monitor_events"
    path = "/v1/Events"
    primary_keys = ("sid",)
    replication_key = "event_date"
    is_sorted = False  # newest first
    records_jsonpath = "$.events[*]"
    schema = json.loads(SCHEMA_FILE.read_text())

    @property
    def url_base(self) -> str:
        return str(self.config["twilio_monitor_base_url"]).rstrip("/")

    @property
    def authenticator(self) -> HTTPBasicAuth:
        return HTTPBasicAuth(self.config["twilio_account_sid"], self.config["twilio_auth_token"])

    @property
    def partitions(self) -> list[dict[str, t.Any]]:
        today = dt.datetime.now(dt.UTC).date()
        start_date = self.config.get("start_date")
        if start_date:
            start = dt.datetime.fromisoformat(start_date.replace("Z", "+00:00")).date()
        else:
            start = today - dt.timedelta(days=30)
        return [{"day": f"{start + dt.timedelta(days=offset):%Y-%m-%d}"} for offset in range((today - start).days + 1)]

    def get_new_paginator(self) -> NextPageUrlPaginator:
        return NextPageUrlPaginator()

    def get_url_params(self, context: Context | None, next_page_token: ParseResult | None) -> dict[str, t.Any]:
        if next_page_token:
            return dict(parse_qsl(next_page_token.query))
        assert context is not None
        day = f"{context['day']}T00:00:00Z"
        return {"StartDate": day, "EndDate": day, "PageSize": self.config.get("page_size", 1000)}


class TapSdkDefault(Tap):
    name = "tap-sdk-default"
    config_jsonschema = th.PropertiesList(
        th.Property("twilio_monitor_base_url", th.StringType, required=True),
        th.Property("twilio_account_sid", th.StringType, required=True),
        th.Property("twilio_auth_token", th.StringType, required=True, secret=True),
        th.Property("start_date", th.DateTimeType),
        th.Property("page_size", th.IntegerType, default=1000),
    ).to_dict()

    def discover_streams(self) -> list[EventsStream]:
        return [EventsStream(tap=self)]


if __name__ == "__main__":
    TapSdkDefault.cli()
