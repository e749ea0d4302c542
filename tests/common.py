"""What every test file shares: the stream names, the Twilio settings, timestamps as the APIs
write them, and the bookmarks of a STATE.

One `parse` and one `iso` for the whole suite (each helper module had its own, and two `iso`s
disagreed on fractions: `iso_exact` keeps them). Bookmarks are read in one place, whatever the
stream's partitioning.
"""

from __future__ import annotations

import collections
import datetime as dt
import typing as t

if t.TYPE_CHECKING:
    from emulator import Emulator

#: The tap's stream names, spelled once for the whole suite.
MONITOR_EVENTS = "twilio_monitor_events"
MONITOR_ALERTS = "twilio_monitor_alerts"
TASKROUTER_WORKSPACES = "twilio_taskrouter_workspaces"
TASKROUTER_EVENTS = "twilio_taskrouter_events"
SERVERLESS_SERVICES = "twilio_serverless_services"
SERVERLESS_ENVIRONMENTS = "twilio_serverless_environments"
SERVERLESS_LOGS = "twilio_serverless_logs"
TELNYX_AUDIT_EVENTS = "telnyx_audit_events"
#: Every Twilio stream, in the order the tap syncs them.
TWILIO_STREAMS = (
    MONITOR_EVENTS,
    MONITOR_ALERTS,
    TASKROUTER_WORKSPACES,
    TASKROUTER_EVENTS,
    SERVERLESS_SERVICES,
    SERVERLESS_ENVIRONMENTS,
    SERVERLESS_LOGS,
)


def twilio_config(emulator: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """Twilio only (the Telnyx streams are skipped), pointed at `emulator`, with `overrides`.

    The suite's one style of settings: a function of the emulator and overrides, as
    `serverless_config` and `telnyx_config` (a setting given None is left out)."""
    return emulator.tap_config(**{"telnyx_api_key": None, **overrides})


def parse(value: str | dt.datetime | None) -> dt.datetime:
    """An ISO 8601 string (`Z` or an offset) or a database timestamp, as an aware UTC datetime."""
    assert value is not None, "a timestamp was expected"
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    """To the second, as Twilio writes dates and the settings take them: `2026-01-31T10:00:00Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_exact(value: dt.datetime) -> str:
    """With the fraction of a second, when there is one: `2026-01-31T10:00:00.250000Z`."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def bookmarks(state: dict[str, t.Any], stream: str) -> list[tuple[dict[str, t.Any], str]]:
    """(partition context, bookmark) of every bookmark a STATE holds for `stream`, whether
    partitioned or not (an unpartitioned stream's context is `{}`)."""
    stream_state = state.get("bookmarks", {}).get(stream, {})
    entries = [stream_state, *stream_state.get("partitions", [])]
    return [
        (entry.get("context", {}), entry["replication_key_value"])
        for entry in entries
        if entry.get("replication_key_value")
    ]


def bookmark_values(state: dict[str, t.Any], stream: str) -> list[str]:
    """Every bookmark a STATE holds for a stream, whether partitioned or not."""
    return [value for _, value in bookmarks(state, stream)]


def bookmark_of(state: dict[str, t.Any], stream: str, context: dict[str, t.Any] | None = None) -> str | None:
    """The stream's bookmark; for a partitioned stream, the one of `context`."""
    return next((value for found, value in bookmarks(state, stream) if found == (context or {})), None)


def assert_each_once(keys: t.Sequence[t.Hashable], what: str = "record") -> None:
    """No key twice: the exactly-once half that a set comparison with the expected keys cannot see."""
    repeated = [key for key, count in collections.Counter(keys).items() if count > 1]
    assert not repeated, f"{len(repeated)} {what}(s) emitted more than once, e.g. {repeated[:3]}"
