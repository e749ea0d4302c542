"""A parent account with subaccounts in the emulator, each with its own token and data, and what
a run read of each account."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import TWILIO_STREAMS, iso
from tests.tap_runner import TapRun

PARENT_SID = DEFAULT_ACCOUNT_SID
#: Each stream's primary key column.
KEYS = {stream: "sid" for stream in TWILIO_STREAMS}


def subaccount_sid(number: int) -> str:
    return "AC" + f"{number:02x}" * 16


def subaccount_token(number: int) -> str:
    """Tokens a test can look for in everything the tap writes."""
    return f"subaccount-token-{number:02d}-c0ffee"


def small_sizes() -> dict[str, t.Any]:
    return {
        "monitor_events": 30,
        "monitor_alerts": 10,
        "monitor_days": 1,
        "taskrouter_workspaces": 1,
        "taskrouter_events": 10,
        "taskrouter_days": 1,
        "serverless_services": 1,
        "serverless_environments": (1,),
        "serverless_logs": 5,
        "serverless_hours": 2,
        "telnyx_events": 20,
        "telnyx_days": 1,
    }


def add_subaccounts(emulator: Emulator, statuses: t.Sequence[str]) -> list[str]:
    """One subaccount per status given, numbered from 1: their SIDs."""
    sids = []
    for number, status in enumerate(statuses, start=1):
        sid = subaccount_sid(number)
        emulator.add_twilio_subaccount(sid, subaccount_token(number), status=status)
        sids.append(sid)
    return sids


def parent_config(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """The parent's credentials, Twilio only, from two days back."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    settings: dict[str, t.Any] = {"telnyx_api_key": None, "start_date": iso(since), "twilio_subaccounts": "all"}
    return emulator.tap_config(**{**settings, **overrides})


def accounts_read(run: TapRun) -> set[str]:
    """Every account_sid in the run's Twilio records."""
    return {record["account_sid"] for stream in TWILIO_STREAMS for record in run.records[stream]}


def keys_of(run: TapRun, account_sid: str | None = None) -> dict[str, list[str]]:
    """Primary keys per stream, sorted (of one account when given), duplicates kept."""
    return {
        stream: sorted(
            str(record[KEYS[stream]])
            for record in run.records[stream]
            if account_sid is None or record["account_sid"] == account_sid
        )
        for stream in TWILIO_STREAMS
    }


def state_accounts(state: dict[str, t.Any]) -> set[str]:
    """Every account named by a partition of a STATE."""
    return {
        partition["context"]["account_sid"]
        for stream_state in state.get("bookmarks", {}).values()
        for partition in stream_state.get("partitions", [])
        if "account_sid" in partition.get("context", {})
    }


def bookmarks_over(states: t.Iterable[dict[str, t.Any]]) -> dict[tuple[str, str], str]:
    """(stream, partition context) -> bookmark, over every state given (shards' states: a
    partition in two of them is an error)."""
    found: dict[tuple[str, str], str] = {}
    for state in states:
        for stream, stream_state in state.get("bookmarks", {}).items():
            for partition in [stream_state, *stream_state.get("partitions", [])]:
                if partition.get("replication_key_value"):
                    key = (stream, json.dumps(partition.get("context", {}), sort_keys=True))
                    assert key not in found, f"{key} is in two states"
                    found[key] = partition["replication_key_value"]
    return found
