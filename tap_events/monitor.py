"""Twilio Monitor: account-wide audit Events and debugger Alerts."""

from __future__ import annotations

import datetime as dt
import typing as t

import orjson
from typing_extensions import override

from tap_events.result_cap import ResultCapSplitting
from tap_events.stop_policies import BilledReadsStop
from tap_events.timestamps import ONE_SECOND, ceil_second, format_timestamp, utc_now
from tap_events.twilio import TwilioStream
from tap_events.windows import UnsortedWindowStream

if t.TYPE_CHECKING:
    import requests

    from tap_events.client import TapEventsStream
    from tap_events.stop_policies import StopPolicy

#: What Twilio's Alerts list says, with HTTP 400 and no error code, instead of a page that
#: would reach past the 10,000th result of a query.
RESULTS_LIMIT_MESSAGE = "data is limited to 10,000 results"


class MonitorStream(TwilioStream, UnsortedWindowStream):
    base_url_setting = "twilio_monitor_base_url"


class MonitorEventsStream(MonitorStream):
    """Every action on the account: who did what, from where.

    `StartDate`/`EndDate` match whole UTC days, time of day ignored: one window is one day,
    and records before the bookmark's lookback point are dropped here, not by the server.
    Twilio bills every event read, so paging a window stops at the first page, newest first,
    that reaches below the window (`stop_policies.BilledReadsStop`).
    """

    name = "twilio_monitor_events"
    path = "/v1/Events"
    records_key = "events"
    primary_keys = ("sid",)
    replication_key = "event_date"
    timestamp_fields = ("event_date",)
    # Kept 30 days on most editions, 13 months on some: older days are asked for; a day the API
    # refuses as too old is reported (`read_window`), one it trims comes back without those events.
    retention = dt.timedelta(days=30)
    clamp_to_retention = False
    # A busy range is read in day windows, not in pieces of a page.
    day_granular_filter = True

    @override
    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        # The time of day selects nothing, but it is sent: an API that refuses a StartDate older
        # than it keeps then accepts the part of a day still kept (`read_window` retries with it).
        # EndDate names the day of the window's last moment (one day, or a partition's whole range).
        last_day = end - dt.timedelta(microseconds=1)
        return {"StartDate": format_timestamp(start), "EndDate": f"{max(start, last_day):%Y-%m-%d}T00:00:00Z"}

    @override
    def stop_policies(self) -> list[StopPolicy]:
        """Paging a window stops at the first page, newest first, that reaches below it (`BilledReadsStop`)."""
        return [BilledReadsStop(), *super().stop_policies()]


class MonitorAlertsStream(MonitorStream, ResultCapSplitting):
    """Debugger alerts (errors and warnings from calls, messages, webhooks).

    Replication key `date_created`, when Twilio recorded the alert: `date_generated` can be
    earlier (alerts are buffered), so a bookmark on it would skip alerts generated before
    the bookmark but recorded after it.

    Twilio does not say whether `StartDate`/`EndDate` match `date_created` or
    `date_generated`, so each query starts `twilio_alerts_max_buffering_minutes` before its
    window (`query_range`) and the records are kept on `date_created`: every alert of the
    window is returned under either reading, and emitted by exactly one window.

    No page may reach past the 10,000th result of a query (HTTP 400): a window that holds
    more is split (`ResultCapSplitting`). Queries reaching back more than 30 days are
    refused by the API, so the window start is clamped to the retention.
    """

    name = "twilio_monitor_alerts"
    path = "/v1/Alerts"
    records_key = "alerts"
    primary_keys = ("sid",)
    replication_key = "date_created"
    timestamp_fields = ("date_created", "date_generated", "date_updated")
    retention = dt.timedelta(days=30)
    clamp_to_retention = True
    records_noun = "alerts"
    splits_busy_windows = True
    # Twilio does not say which date the filter compares (`query_range`).
    filter_fields = ("date_created", "date_generated")

    @property
    @override
    def query_lead(self) -> dt.timedelta:
        """An alert is generated up to this long before it is recorded (`date_created`)."""
        return dt.timedelta(minutes=self.config.get("twilio_alerts_max_buffering_minutes", 60))

    @override
    def query_range(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """From `query_lead` before the window, but not before the retention."""
        query_start, query_end = super().query_range(start, end)
        return max(query_start, min(start, utc_now() - self.retention)), query_end

    @override
    def refuses_for_result_cap(self, response: requests.Response) -> bool:
        if response.status_code != 400:
            return False
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return False
        return isinstance(body, dict) and RESULTS_LIMIT_MESSAGE in str(body.get("message"))

    @override
    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        # Both bounds are inclusive ("on or after", "on or before"); the window's own end is asked
        # for too, in case Twilio compares to the millisecond, and `get_records` drops it.
        # The lead is clamped to the retention again when the request is built: a piece of a busy
        # window is sent a while after its range was computed (and a lead older than the
        # retention is refused, with HTTP 400, not trimmed).
        oldest = ceil_second(utc_now() - self.retention) + ONE_SECOND
        return {"StartDate": format_timestamp(max(start, oldest)), "EndDate": format_timestamp(ceil_second(end))}


STREAMS: list[type[TapEventsStream]] = [MonitorEventsStream, MonitorAlertsStream]
