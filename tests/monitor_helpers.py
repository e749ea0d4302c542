"""Shared by the tests/test_monitor_*.py files: stream names, days, and what the emulator holds."""

from __future__ import annotations

import datetime as dt
import typing as t

from emulator import Emulator
from emulator.monitor import MonitorAPI
from emulator.server import DEFAULT_ACCOUNT_SID

EVENTS = "twilio_monitor_events"
ALERTS = "twilio_monitor_alerts"


def midnight(days_ago: int) -> dt.datetime:
    """Midnight UTC `days_ago` days before today's."""
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days_ago)


def monitor_api(emulator: Emulator) -> MonitorAPI:
    """`emulator.monitor`, typed."""
    return emulator.monitor


def alerts_of(emulator: Emulator) -> list[dict[str, t.Any]]:
    return list(monitor_api(emulator).alerts.get(DEFAULT_ACCOUNT_SID, []))


def events_of(emulator: Emulator) -> list[dict[str, t.Any]]:
    return list(monitor_api(emulator).events.get(DEFAULT_ACCOUNT_SID, []))
