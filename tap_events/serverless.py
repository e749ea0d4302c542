"""Twilio Serverless: services, their environments, and every environment's function logs.

Services → Environments → Logs are parent, child and grandchild streams: the SDK reads an
environment's logs once per environment listed, with the context
`{"account_sid", "service_sid", "environment_sid"}`, and keeps one bookmark per environment.

The Logs endpoint has three traps that this module exists for:

- At most 10,000 results per query, silently: a window that reaches the cap is split in
  halves until every piece is complete (`ResultCapSplitting`, shared with Alerts).
- 5 requests per second: one limiter per account shared by every Logs request of the
  run (`limits.Limits.logs_rate`), and HTTP 429 (Twilio error 20429) retried after
  `Retry-After`.
- Without `StartDate` only the last day is returned: every request carries the window.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_events.http_client import retry_after_seconds
from tap_events.result_cap import ResultCapSplitting
from tap_events.timestamps import ONE_SECOND, ceil_second, floor_second, format_timestamp
from tap_events.twilio import TwilioListStream, TwilioStream

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests
    from singer_sdk.helpers.types import Context, Record

    from tap_events.client import TapEventsStream

#: Twilio returns at most this many logs for one query, and says nothing when it stops there.
RESULT_CAP = 10_000
#: "Logs are available for the last 30 days only" (windows start `RETENTION_MARGIN` inside it).
LOG_RETENTION = dt.timedelta(days=30)


class ServerlessStream(TwilioStream):
    base_url_setting = "twilio_serverless_base_url"


class ServerlessListStream(ServerlessStream, TwilioListStream):
    """A plain list, read whole on every run."""


class ServicesStream(ServerlessListStream):
    """Serverless services of the account, or only those of `twilio_service_sids`."""

    name = "twilio_serverless_services"
    path = "/v1/Services"
    records_key = "services"
    primary_keys = ("sid",)
    timestamp_fields = ("date_created", "date_updated")
    sids_setting = "twilio_service_sids"

    @override
    def get_child_context(self, record: Record, context: Context | None) -> Context:
        return {**(context or {}), "service_sid": record["sid"]}


class EnvironmentsStream(ServerlessListStream):
    """Environments of each service; a service deleted since it was listed is skipped."""

    name = "twilio_serverless_environments"
    parent_stream_type = ServicesStream
    path = "/v1/Services/{service_sid}/Environments"
    records_key = "environments"
    primary_keys = ("sid",)
    timestamp_fields = ("date_created", "date_updated")
    partition_path_keys = ("service_sid",)

    @override
    def get_child_context(self, record: Record, context: Context | None) -> Context:
        return {**(context or {}), "environment_sid": record["sid"]}


class LogsStream(ServerlessStream, ResultCapSplitting):
    """Function logs of one environment, read in one-day windows with one bookmark each.

    - Every request carries `StartDate` and `EndDate` (without them Twilio answers only
      the last day), to the second as Twilio's helper libraries send them, and a little
      wider than the window (`window_params`); whatever the API returns outside
      [window start, window end) is dropped here, so a log on a bound is read once whether
      the API treats the bounds as exclusive (as its spec words them) or inclusive.
    - Logs share milliseconds and come in no reliable order: nothing here depends on the
      order inside a window; the bookmark moves only when a window is complete.
    - A window whose query returns the cap (10,000 logs, silently cut) is split in halves
      until every piece is complete (`ResultCapSplitting`), each log emitted once.
    - An environment deleted since it was listed answers 404: the base class skips the rest
      of it with one warning (only the windows already being read ahead were requested).
    - A `start_date` older than the 30 days Twilio keeps is moved up, with one log line.
    """

    name = "twilio_serverless_logs"
    parent_stream_type = EnvironmentsStream
    path = "/v1/Services/{service_sid}/Environments/{environment_sid}/Logs"
    records_key = "logs"
    primary_keys = ("sid",)
    replication_key = "date_created"
    timestamp_fields = ("date_created",)
    timestamp_precision = "milliseconds"
    partition_path_keys = ("service_sid", "environment_sid")
    # At 5 requests per second every window costs: one day keeps a 30-day backfill of a quiet
    # environment (most are) at 31 requests, where one hour would cost 721 (2.5 minutes).
    # A busy day is split where it reaches the cap (`ResultCapSplitting`), which costs at most
    # 10 pages per level of splitting; a kill -9 re-reads at most 2 x max_concurrent_requests days.
    window_size = dt.timedelta(days=1)
    retention = LOG_RETENTION
    clamp_to_retention = True
    result_cap = RESULT_CAP
    cap_is_silent = True
    records_noun = "logs"
    # At 5 requests per second a busy window's pieces gain where a round trip takes longer
    # than 200 ms (one chain of pages then sends fewer than five a second).
    splits_busy_windows = True
    # ---- requests ------------------------------------------------------------------------

    @override
    def request_decorator(self, func: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
        """Every attempt, retries included, first waits for its account's Logs limiter.

        A 429 holds every Logs request of that account, in every thread, for `Retry-After`
        (or a second), not only the retry of this one.
        """

        def rate_limited(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            limiter = self.run.limits.logs_rate((context or {}).get("account_sid", ""))
            limiter.wait()
            try:
                return func(prepared_request, context)
            except RetriableAPIError as exc:
                if exc.response is not None and exc.response.status_code == 429:
                    limiter.pause(retry_after_seconds(exc.response) or 1.0)
                raise

        return super().request_decorator(rate_limited)

    @override
    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        return {
            # "After which": exclusive, as the spec words it. One second earlier keeps a log
            # created exactly at `start` in either reading; `_read_window` drops what is outside.
            "StartDate": format_timestamp(floor_second(start) - ONE_SECOND),
            "EndDate": format_timestamp(ceil_second(end)),
        }


STREAMS: list[type[TapEventsStream]] = [ServicesStream, EnvironmentsStream, LogsStream]
