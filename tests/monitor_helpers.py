"""Shared by the tests/*/test_monitor_*.py files: days, what the emulator holds, and requests straight at it."""

from __future__ import annotations

import datetime as dt
import typing as t

import requests

from emulator import Emulator
from emulator.monitor import MonitorAPI
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.common import MONITOR_EVENTS, assert_each_once, twilio_config
from tests.tap_runner import catalog_selecting

if t.TYPE_CHECKING:
    from tests.tap_runner import TapRun


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


def get_events(emulator: Emulator, **params: t.Any) -> requests.Response:
    """`GET /v1/Events` straight at the emulator, as the default account."""
    return _get(emulator, "/v1/Events", params)


def get_alerts(emulator: Emulator, **params: t.Any) -> requests.Response:
    """`GET /v1/Alerts` straight at the emulator, as the default account."""
    return _get(emulator, "/v1/Alerts", params)


def _get(emulator: Emulator, path: str, params: dict[str, t.Any]) -> requests.Response:
    return requests.get(
        f"{emulator.base_url}{path}", params=params, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=30
    )


def events_only_settings(emulator: Emulator, **overrides: t.Any) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """Settings that read Monitor Events alone (`twilio_config` with `overrides`), and their catalog."""
    config = twilio_config(emulator, **overrides)
    return config, catalog_selecting(config, [MONITOR_EVENTS])


def assert_every_event_once(emulator: Emulator, run: TapRun) -> None:
    """The run succeeded and emitted each of the emulator's Monitor Events exactly once."""
    assert run.returncode == 0, run.stderr
    sids = [record["sid"] for record in run.records[MONITOR_EVENTS]]
    assert_each_once(sids, "record")
    assert set(sids) == {event["sid"] for event in events_of(emulator)}
