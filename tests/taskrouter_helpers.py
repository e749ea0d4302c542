"""What the TaskRouter tests share: stream names, the emulator's data, direct requests."""

from __future__ import annotations

import datetime as dt
import functools
import json
import typing as t

import requests

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from emulator.taskrouter import TaskRouterAPI
from tests.common import TASKROUTER_EVENTS, bookmark_of
from tests.tap_runner import catalog_selecting

if t.TYPE_CHECKING:
    from emulator import Emulator
    from tests.tap_runner import TapRun


def taskrouter_api(emulator: Emulator) -> TaskRouterAPI:
    """`emulator.taskrouter`, typed."""
    return emulator.taskrouter


def workspace_sids(emulator: Emulator) -> list[str]:
    return [workspace["sid"] for workspace in taskrouter_api(emulator).workspaces[DEFAULT_ACCOUNT_SID]]


def events_by_workspace(emulator: Emulator) -> dict[str, list[dict[str, t.Any]]]:
    return {sid: taskrouter_api(emulator).events_of(sid) for sid in workspace_sids(emulator)}


def all_event_sids(emulator: Emulator) -> set[str]:
    return {event["sid"] for events in events_by_workspace(emulator).values() for event in events}


def sids(records: t.Iterable[dict[str, t.Any]]) -> set[str]:
    return {record["sid"] for record in records}


def oldest_start(emulator: Emulator) -> str:
    """A StartDate almost 30 days back: as far as TaskRouter allows (older is refused with 400)."""
    return (emulator.now - dt.timedelta(days=30) + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_events(emulator: Emulator, workspace_sid: str, **params: t.Any) -> requests.Response:
    """`GET /v1/Workspaces/{sid}/Events` straight at the emulator, as the default account."""
    return requests.get(
        f"{emulator.base_url}/v1/Workspaces/{workspace_sid}/Events",
        params=params,
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
        timeout=10,
    )


def events_requests(emulator: Emulator) -> list[str]:
    """URLs of every Events request the emulator has seen."""
    return [seen.url for seen in emulator.seen if "/Events" in seen.url and "/v1/Workspaces/" in seen.url]


@functools.cache
def _catalog(streams: tuple[str, ...]) -> str:
    # Discovery makes no request, so any well-formed Twilio settings describe the same catalog.
    config = {"twilio_account_sid": DEFAULT_ACCOUNT_SID, "twilio_auth_token": DEFAULT_AUTH_TOKEN}
    return json.dumps(catalog_selecting(config, streams))


def catalog(*streams: str) -> dict[str, t.Any]:
    """The tap's discovered catalog with only `streams` selected (discovered once per test session)."""
    return json.loads(_catalog(tuple(sorted(streams or (TASKROUTER_EVENTS,)))))


def partition(workspace_sid: str, account_sid: str = DEFAULT_ACCOUNT_SID) -> dict[str, str]:
    """The STATE context of one workspace's events."""
    return {"account_sid": account_sid, "workspace_sid": workspace_sid}


def assert_state_claims_only_written(run: TapRun, emulator: Emulator) -> None:
    """No STATE message claims an event of any workspace (by its bookmark) before that event's
    RECORD was written."""
    by_workspace = events_by_workspace(emulator)
    written: set[str] = set()
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == TASKROUTER_EVENTS:
            written.add(message["record"]["sid"])
        elif message["type"] == "STATE":
            for workspace, events in by_workspace.items():
                claimed = bookmark_of(message["value"], TASKROUTER_EVENTS, partition(workspace)) or ""
                unwritten = [e for e in events if e["event_date"] <= claimed and e["sid"] not in written]
                assert not unwritten, "STATE claimed events not yet written"
