"""Twilio Monitor: account-wide audit Events and debugger Alerts."""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk import Stream

from tap_events.client import TimeWindowStream, TwilioStream
from tap_events.timestamps import ceil_second, format_timestamp


class MonitorStream(TwilioStream, TimeWindowStream):
    base_url_setting = "twilio_monitor_base_url"


class MonitorEventsStream(MonitorStream):
    """Every action on the account: who did what, from where.

    `StartDate`/`EndDate` match whole UTC days, time of day ignored: one window is one day,
    and records before the bookmark's lookback point are dropped here, not by the server.
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

    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        # The time of day selects nothing, but it is sent: an API that refuses a StartDate older
        # than it keeps then accepts the part of a day still kept (`read_window` retries with it).
        return {"StartDate": format_timestamp(start), "EndDate": f"{start:%Y-%m-%d}T00:00:00Z"}


class MonitorAlertsStream(MonitorStream):
    """Debugger alerts (errors and warnings from calls, messages, webhooks).

    Replication key `date_created`: `StartDate`/`EndDate` select alerts by when Twilio
    recorded them, which is `date_created`. `date_generated` can be earlier (alerts are
    buffered), so a bookmark on it would skip alerts generated before the bookmark but
    recorded after it. Queries reaching back more than 30 days are refused by the API, so
    the window start is clamped to the retention.
    """

    name = "twilio_monitor_alerts"
    path = "/v1/Alerts"
    records_key = "alerts"
    primary_keys = ("sid",)
    replication_key = "date_created"
    timestamp_fields = ("date_created", "date_generated", "date_updated")
    retention = dt.timedelta(days=30)
    clamp_to_retention = True

    def window_params(self, start: dt.datetime, end: dt.datetime) -> dict[str, t.Any]:
        # Both bounds are inclusive ("on or after", "on or before"); the window's own end is asked
        # for too, in case Twilio compares to the millisecond, and `get_records` drops it.
        return {"StartDate": format_timestamp(start), "EndDate": format_timestamp(ceil_second(end))}


STREAMS: list[type[Stream]] = [MonitorEventsStream, MonitorAlertsStream]
