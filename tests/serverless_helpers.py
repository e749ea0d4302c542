"""Shared by the tests/*/test_serverless_*.py files: settings, expected data, timestamps."""

from __future__ import annotations

import datetime as dt
import typing as t

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from emulator.serverless import ServerlessAPI
from tests.common import SERVERLESS_ENVIRONMENTS, SERVERLESS_LOGS, SERVERLESS_SERVICES, bookmarks, iso_exact, parse
from tests.tap_runner import TapRun

ALL_STREAMS = [SERVERLESS_SERVICES, SERVERLESS_ENVIRONMENTS, SERVERLESS_LOGS]
AUTH = (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
#: The default emulator data set's recent logs are all inside the last 3 hours.
RECENT = dt.timedelta(hours=3, minutes=5)


def serverless_config(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """Twilio only, reading the recent logs of the default data set."""
    settings = {"telnyx_api_key": None, "start_date": iso_exact(dt.datetime.now(dt.UTC) - RECENT)}
    return emulator.tap_config(**{**settings, **overrides})


def serverless_api(emulator: Emulator) -> ServerlessAPI:
    """`emulator.serverless`, typed."""
    return emulator.serverless


def environments(emulator: Emulator) -> list[dict[str, t.Any]]:
    """Every environment of every service, as the emulator holds them."""
    api = serverless_api(emulator)
    return [
        environment
        for service in api.services[DEFAULT_ACCOUNT_SID]
        for environment in api.environments_of(service["sid"])
    ]


def logs_since(emulator: Emulator, since: dt.datetime | str, environment_sid: str | None = None) -> dict[str, dict]:
    """Logs (by SID) created at or after `since`, of one environment or of all."""
    cutoff = parse(since) if isinstance(since, str) else since
    chosen = [environment_sid] if environment_sid else [env["sid"] for env in environments(emulator)]
    return {
        log["sid"]: log
        for sid in chosen
        for log in serverless_api(emulator).logs_of(sid)
        if parse(log["date_created"]) >= cutoff
    }


def environment_bookmarks(state: dict[str, t.Any], environment: dict[str, t.Any]) -> list[str]:
    """The Logs bookmarks of one environment in a STATE value (its context may hold more keys)."""
    return [
        value
        for context, value in bookmarks(state, SERVERLESS_LOGS)
        if context.get("environment_sid") == environment["sid"]
    ]


def environment_bookmark(run: TapRun, environment: dict[str, t.Any]) -> str | None:
    """The environment's Logs bookmark in the run's final STATE."""
    found = environment_bookmarks(run.final_state, environment)
    return found[0] if found else None


def logs_url(emulator: Emulator, environment: dict[str, t.Any]) -> str:
    return f"{emulator.base_url}/v1/Services/{environment['service_sid']}/Environments/{environment['sid']}/Logs"


def logs_requests(emulator: Emulator) -> list:
    """The Logs requests the emulator saw, in arrival order."""
    return [seen for seen in emulator.seen if seen.url.split("?")[0].endswith("/Logs")]


def service_named(emulator: Emulator, unique_name: str) -> dict[str, t.Any]:
    """`service-0` has two environments, `service-1` one, `service-2` none."""
    return next(
        service
        for service in serverless_api(emulator).services[DEFAULT_ACCOUNT_SID]
        if service["unique_name"] == unique_name
    )
