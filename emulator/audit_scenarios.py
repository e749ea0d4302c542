"""Who did what: the event types the default data set draws from, and the scenarios planted in it
so that every starter detection of `transform/` has something to find — and near misses it must not.

Monitor event types are from Twilio's "Full List of All Supported Resource-Types and Event-Types"
(`phone-number.created`, `account-api-keys.created`, `account-auth-token.promoted`; a Console
login is `user-session.created`); Telnyx audit events carry no resource type, only `change_type`
(`create`, `update`, `delete`) and the changed fields.

The planted scenarios (`Emulator(audit_scenarios=True)`, as `python -m emulator` runs for the demo;
default account and organization only, relative to the emulator's `now`):

- credentials: an API key created and one deleted and the auth token promoted (Twilio), a Telnyx
  API key created and deleted;
- logins: an admin logs in from the IP it works from (no finding), then from a new one (a finding);
  a newcomer's first login (no history: no finding);
- alerts: error 30007 once an hour for a day, then 15 in one hour (a surge); error 30008 nine
  times in one hour (under the minimum: no surge);
- deletions: one user deletes 12 recordings in 33 minutes (a finding), another asks for a bulk
  deletion of recordings (one event, a finding); another deletes 9 in an hour, a third 12 numbers
  at 20-minute intervals (no finding).
"""

from __future__ import annotations

import datetime as dt
import random
import typing as t
from dataclasses import dataclass, field

from emulator.twilio import new_sid, twilio_timestamp

if t.TYPE_CHECKING:
    from emulator.monitor import MonitorAPI
    from emulator.telnyx import TelnyxAPI

#: (resource_type, event_type) of the random Monitor events: no credentials among them, so that the
#: credential findings are the planted ones (and the few Telnyx API-key changes of the random data).
MONITOR_EVENT_TYPES = [
    ("account", "account.updated"),
    ("phone-number", "phone-number.created"),
    ("phone-number", "phone-number.updated"),
    ("phone-number", "phone-number.deleted"),
    ("recording", "recording.deleted"),
    ("call", "call.deleted"),
    ("sip-domain", "sip-domain.updated"),
    ("application", "application.created"),
    ("message", "message.deleted"),
    ("user-session", "user-session.created"),
]
LOGIN = ("user-session", "user-session.created")
#: Error codes of the planted alerts: not among the random ones, so that the counts are exact.
SURGING_ERROR_CODE = "30007"
QUIET_ERROR_CODE = "30008"


@dataclass
class Planted:
    """What each detection must find in the planted data (keys as in the `activity` model)."""

    credential_changes: set[str] = field(default_factory=set)
    new_login_ips: set[str] = field(default_factory=set)
    alert_surges: set[tuple[str, str, dt.datetime]] = field(default_factory=set)
    bulk_deletions: set[str] = field(default_factory=set)


def plant_monitor(monitor: MonitorAPI, account_sid: str, planted: Planted) -> None:
    """Monitor events and alerts of the scenarios, added to `account_sid`'s records."""
    now = monitor.emulator.now.replace(microsecond=0)
    rng = random.Random(monitor.emulator.seed * 31 + 5)
    admin, newcomer = new_sid(rng, "US"), new_sid(rng, "US")
    office_ip, new_ip = "198.51.100.20", "192.0.2.66"

    def event(when: dt.datetime, kind: tuple[str, str], actor: str, ip: str, prefix: str = "PN") -> dict[str, t.Any]:
        made = monitor.make_event(account_sid, when)
        resource_type, event_type = kind
        made.update(
            event_type=event_type,
            resource_type=resource_type,
            resource_sid=new_sid(rng, prefix),
            actor_sid=actor,
            actor_type="user",
            source="web",
            source_ip_address=ip,
            description=None,
            event_data={},
        )
        monitor.events[account_sid].add(made)
        return made

    hour = dt.timedelta(hours=1)
    minute = dt.timedelta(minutes=1)
    event(now - 4 * hour, LOGIN, admin, office_ip)
    for kind, prefix in (
        (("account-api-keys", "account-api-keys.created"), "SK"),
        (("account-api-keys", "account-api-keys.deleted"), "SK"),
        (("account-auth-token", "account-auth-token.promoted"), "AC"),
    ):
        planted.credential_changes.add(event(now - 3 * hour, kind, admin, office_ip, prefix)["sid"])
    event(now - 3 * hour + 5 * minute, LOGIN, admin, office_ip)
    planted.new_login_ips.add(event(now - 90 * minute, LOGIN, admin, new_ip)["sid"])
    event(now - 2 * hour, LOGIN, newcomer, "203.0.113.200")

    cleaner, tidy, slow = (new_sid(rng, "US") for _ in range(3))
    recording = ("recording", "recording.deleted")
    cleaned = [event(now - 2 * hour + 3 * i * minute, recording, cleaner, office_ip, "RE") for i in range(12)]
    planted.bulk_deletions.add(cleaned[9]["sid"])
    bulk = ("recording", "recording.bulk-delete.created")
    planted.bulk_deletions.add(event(now - 100 * minute, bulk, new_sid(rng, "US"), office_ip, "RE")["sid"])
    for i in range(9):
        event(now - 4 * hour + 6 * i * minute, recording, tidy, office_ip, "RE")
    for i in range(12):
        event(now - 5 * hour + 20 * i * minute, ("phone-number", "phone-number.deleted"), slow, office_ip)

    surge_hour = (now - hour).replace(minute=0, second=0)

    def alert(when: dt.datetime, code: str) -> None:
        made = monitor.make_alert(account_sid, when)
        made.update(
            error_code=code,
            alert_text=f"Msg=Message+delivery+failed&ErrorCode={code}",
            more_info=f"https://www.twilio.com/docs/errors/{code}",
            date_generated=twilio_timestamp(when),
        )
        monitor.alerts[account_sid].add(made)

    for hours_before in range(1, 26):
        alert(surge_hour - hours_before * hour + 30 * minute, SURGING_ERROR_CODE)
    for i in range(15):
        alert(surge_hour + (i + 1) * minute, SURGING_ERROR_CODE)
    planted.alert_surges.add((account_sid, SURGING_ERROR_CODE, surge_hour))
    for i in range(9):
        alert(surge_hour - 2 * hour + (i + 1) * minute, QUIET_ERROR_CODE)


def plant_telnyx(telnyx: TelnyxAPI, organization: str, planted: Planted) -> None:
    """A Telnyx API key created and another deleted by one organization member."""
    now = telnyx.emulator.now.replace(microsecond=0)
    user = "5b2c1a0e-7d4f-4e61-9c3a-2f8e6d1b0a47"
    for offset, change_type, change in (
        (150, "create", {"field": "api_key.name", "from": None, "to": "ci-deploy"}),
        (140, "delete", {"field": "api_key.status", "from": "active", "to": None}),
    ):
        made = telnyx.make_event(
            organization,
            now - dt.timedelta(minutes=offset),
            change_type=change_type,
            change_made_by="organization_member",
            user_id=user,
            alternate_resource_id=None,
            changes=[change],
            record_type="api_key" if telnyx.record_type_names_resource else "audit_event",
        )
        telnyx.events[organization].add(made)
        planted.credential_changes.add(made["id"])
