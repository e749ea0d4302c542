"""The settings: their schema, and validation before any request whose errors never echo a secret."""

from __future__ import annotations

import ipaddress
import re
import typing as t
from urllib.parse import urlsplit

from jsonschema import Draft7Validator
from singer_sdk import typing as th

from tap_events.http_client import MAX_REQUESTS_IN_FLIGHT
from tap_events.shards import shard_error
from tap_events.subaccounts import selection_errors
from tap_events.timestamps import parse_timestamp, utc_now
from tap_events.twilio import twilio_accounts
from tap_events.window_plan import DEFAULT_HISTORY

BASE_URL_SETTINGS = {
    "twilio_monitor_base_url": "https://monitor.twilio.com",
    "twilio_taskrouter_base_url": "https://taskrouter.twilio.com",
    "twilio_serverless_base_url": "https://serverless.twilio.com",
    "telnyx_base_url": "https://api.telnyx.com",
    "twilio_api_base_url": "https://api.twilio.com",
}
SID_PREFIXES = {
    "twilio_account_sid": "AC",
    "twilio_api_key_sid": "SK",
    "twilio_workspace_sids": "WS",
    "twilio_service_sids": "ZS",
}
WHOLE_NUMBERS = {  # setting: (minimum, maximum)
    "page_size": (1, 1000),
    "lookback_window_minutes": (0, None),
    "twilio_alerts_max_buffering_minutes": (0, 1440),
    "max_request_retries": (0, None),
    "request_timeout_seconds": (1, None),
    "max_concurrent_requests": (1, MAX_REQUESTS_IN_FLIGHT),
    "progress_interval_seconds": (0, None),
}


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _sid_error(name: str, value: t.Any, prefix: str) -> str | None:
    """The value is described, not shown: a secret pasted into a SID field must not be echoed."""
    text = str(value)
    if re.fullmatch(rf"{prefix}[0-9a-fA-F]{{32}}", text):
        return None
    return f"{name} must be '{prefix}' followed by 32 hexadecimal characters (got {len(text)} characters)."


def _credential_errors(name: str, entry: t.Mapping[str, t.Any], prefix: str = "") -> list[str]:
    """One account's SIDs and credential: `prefix` is '' for entries of twilio_accounts, 'twilio_' otherwise."""
    errors = []
    for key, sid_prefix in (("account_sid", "AC"), ("api_key_sid", "SK")):
        if entry.get(f"{prefix}{key}"):
            errors.append(_sid_error(f"{name}{prefix}{key}", entry[f"{prefix}{key}"], sid_prefix))
    if bool(entry.get(f"{prefix}api_key_sid")) != bool(entry.get(f"{prefix}api_key_secret")):
        errors.append(f"{name}{prefix}api_key_sid and {name}{prefix}api_key_secret must be given together.")
    has_secret = entry.get(f"{prefix}auth_token") or entry.get(f"{prefix}api_key_secret")
    if has_secret and not entry.get(f"{prefix}account_sid"):
        errors.append(f"{name}{prefix}account_sid is required with Twilio credentials.")
    if entry.get(f"{prefix}account_sid") and not has_secret:
        errors.append(f"{name}{prefix}account_sid needs {prefix}auth_token, or {prefix}api_key_sid with its secret.")
    return [error for error in errors if error]


def _base_url_error(setting: str, value: str) -> str | None:
    """Only scheme, host and port are ever echoed: user info or a query may hold a secret."""
    parts = urlsplit(value)
    if parts.username or parts.password or parts.query or parts.fragment or parts.path.strip("/"):
        return f"{setting} must be a bare scheme://host[:port] URL without user info, path, query or fragment."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{setting} must be an absolute URL such as https://host."
    if parts.scheme != "https" and not _is_loopback(parts.hostname):
        return f"{setting} must use https (plain http is allowed only for loopback addresses), got {parts.scheme}://{parts.netloc}."
    return None


SECRETS = ("twilio_auth_token", "twilio_api_key_secret", "telnyx_api_key")


def _secret_errors(name: str, value: t.Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{name} must be a string."]
    if value != value.strip() or any(ord(character) < 32 for character in value):
        return [f"{name} has surrounding spaces, a line break or control characters (not shown): remove them."]
    return []


def schema_errors(schema: dict[str, t.Any], config: t.Mapping[str, t.Any]) -> list[str]:
    """The settings schema's complaints, naming the setting and the rule but never the value."""
    errors = []
    for error in Draft7Validator(schema).iter_errors(dict(config)):
        where = ".".join(str(part) for part in error.absolute_path) or "the settings"
        errors.append(f"{where} must satisfy {error.validator!r}: {error.validator_value!r}.")
    return errors


def setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every problem with the settings, each naming its setting and never echoing a secret."""
    errors: list[str | None] = []
    for setting in ("twilio_workspace_sids", "twilio_service_sids"):
        errors += [
            _sid_error(f"{setting} entries", value, SID_PREFIXES[setting]) for value in config.get(setting) or []
        ]
    dates = {}
    for setting in ("start_date", "end_date"):
        if config.get(setting) is not None:
            try:
                dates[setting] = parse_timestamp(str(config[setting]))
            except ValueError:
                errors.append(
                    f"{setting} must be an ISO 8601 date or date-time such as 2026-01-31, got {config[setting]!r}."
                )
    if len(dates) == 2 and dates["end_date"] <= dates["start_date"]:
        errors.append("end_date must be later than start_date.")
    if "end_date" in dates and config.get("start_date") is None and dates["end_date"] <= utc_now() - DEFAULT_HISTORY:
        days = DEFAULT_HISTORY.days
        errors.append(
            f"end_date is more than {days} days ago: set start_date too (without it a run reads the last {days} days)."
        )
    for setting, (minimum, maximum) in WHOLE_NUMBERS.items():
        value = config.get(setting)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > (maximum or value):
            limits = f"from {minimum} to {maximum}" if maximum else f"{minimum} or more"
            errors.append(f"{setting} must be a whole number {limits}, got {value!r}.")
    errors += [_base_url_error(setting, str(config[setting])) for setting in BASE_URL_SETTINGS if setting in config]
    for setting in SECRETS:
        errors += _secret_errors(setting, config.get(setting))
    errors += _credential_errors("", config, prefix="twilio_")
    for index, entry in enumerate(config.get("twilio_accounts") or []):
        if not isinstance(entry, dict):
            errors.append(f"twilio_accounts[{index}] must be an object with account_sid and its credential.")
        else:
            errors += _credential_errors(f"twilio_accounts[{index}].", {"account_sid": None, **entry})
            for key in ("auth_token", "api_key_secret"):
                errors += _secret_errors(f"twilio_accounts[{index}].{key}", entry.get(key))
            if not any(entry.get(key) for key in ("account_sid", "auth_token", "api_key_secret")):
                errors.append(f"twilio_accounts[{index}] is empty: it needs account_sid and its credential.")
    errors += selection_errors(config)
    errors.append(shard_error(config.get("shard")))
    if not twilio_configured(config) and not telnyx_configured(config):
        errors.append(
            "No credentials: set twilio_account_sid with twilio_auth_token (or twilio_api_key_sid and "
            "twilio_api_key_secret), and/or telnyx_api_key."
        )
    return [error for error in errors if error]


def twilio_configured(config: t.Mapping[str, t.Any]) -> bool:
    return bool(twilio_accounts(config))


def telnyx_configured(config: t.Mapping[str, t.Any]) -> bool:
    return bool(config.get("telnyx_api_key"))


SETTINGS = th.PropertiesList(
    th.Property(
        "twilio_account_sid",
        th.StringType,
        title="Twilio Account SID",
        description="The account to read: 'AC' followed by 32 hex characters.",
    ),
    th.Property(
        "twilio_auth_token",
        th.StringType,
        secret=True,
        title="Twilio Auth Token",
        description="The account's auth token (or use an API key pair below).",
    ),
    th.Property(
        "twilio_api_key_sid",
        th.StringType,
        title="Twilio API Key SID",
        description="Optional 'SK…' API key: with its secret, used instead of the auth token.",
    ),
    th.Property(
        "twilio_api_key_secret",
        th.StringType,
        secret=True,
        title="Twilio API Key Secret",
        description="Secret of the API key.",
    ),
    th.Property(
        "twilio_accounts",
        th.ArrayType(
            th.ObjectType(
                th.Property("account_sid", th.StringType, required=True),
                th.Property("auth_token", th.StringType, secret=True),
                th.Property("api_key_sid", th.StringType),
                th.Property("api_key_secret", th.StringType, secret=True),
            )
        ),
        secret=True,
        title="Twilio Accounts",
        description="More accounts (e.g. subaccounts, which need their own credentials), each "
        "{account_sid, auth_token} or {account_sid, api_key_sid, api_key_secret}; every "
        "account is a partition of every Twilio stream with its own bookmarks.",
    ),
    th.Property(
        "twilio_subaccounts",
        th.CustomType({"type": ["string", "array"], "items": {"type": "string"}}),
        title="Twilio Subaccounts",
        description="Subaccounts of twilio_account_sid to read as well, found at run time: 'none' (the "
        "default), 'all' (every active subaccount) or a list of subaccount SIDs. Their credentials are "
        "asked of Twilio with the parent's auth token (twilio_auth_token; an API key cannot get them) "
        "and kept in memory only; each subaccount is an account partition of every Twilio stream with "
        "its own bookmarks. Suspended and closed subaccounts are skipped and named in the run report.",
    ),
    th.Property(
        "shard",
        th.StringType,
        title="Shard",
        description="'INDEX/COUNT' such as '3/16': this run reads only the Twilio accounts whose SID "
        "hashes to shard INDEX of COUNT (a stable SHA-256 hash), and Telnyx only in shard 1, so that "
        "COUNT runs together read everything once. Changing COUNT: move the bookmarks with "
        "`tap-events-reshard` (docs/orchestration.md).",
    ),
    th.Property(
        "telnyx_api_key",
        th.StringType,
        secret=True,
        title="Telnyx API Key",
        description="Telnyx v2 API key, sent as a Bearer token.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start Date",
        description=(
            "Earliest record to read (ISO 8601). Default: 30 days before now. Bounds the first run of a "
            "partition; later runs resume from their bookmark (never before start_date when it is set)."
        ),
    ),
    th.Property(
        "end_date",
        th.DateTimeType,
        title="End Date",
        description=(
            "Optional upper bound (exclusive, ISO 8601), for fixed backfills; "
            "one more than 30 days ago needs start_date too."
        ),
    ),
    th.Property(
        "lookback_window_minutes",
        th.IntegerType,
        default=10,
        title="Lookback Window (minutes)",
        description="How far before the bookmark an incremental run re-reads, to catch "
        "late-arriving events; duplicates are resolved by primary key downstream.",
    ),
    th.Property(
        "twilio_alerts_max_buffering_minutes",
        th.IntegerType,
        default=60,
        title="Twilio Alerts Max Buffering (minutes)",
        description="The longest delay between an alert's date_generated and its date_created that "
        "the tap allows for (0 to 1440): each Alerts query starts that much before its window, "
        "because Twilio does not say which of the two its StartDate/EndDate filter matches.",
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=1000,
        title="Page Size",
        description="Records per request, 1 to 1000 (Telnyx pages are capped at 250).",
    ),
    th.Property(
        "request_timeout_seconds",
        th.IntegerType,
        default=60,
        title="Request Timeout (seconds)",
        description=(
            "How long to wait for an API to connect, and for its whole answer (headers and body: a body "
            "trickled a byte at a time still ends in time and is retried)."
        ),
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType,
        default=8,
        title="Max Concurrent Requests",
        description="Requests in flight at once per account (1 to 16): time windows, and the pieces of a "
        "busy window, are read concurrently, so latency-bound backfills go up to that many times faster. "
        "Why 8: Twilio limits each account's concurrent requests (HTTP 429, error 20429) without publishing "
        "the number, and the account's own traffic (messages, calls) shares it; Telnyx limits requests per "
        "time window (x-ratelimit-* headers). 8 leaves most of that to production traffic, and on a 429 "
        "the tap halves the requests in flight for that account, then adds one per clean round of answers: "
        "a lower limit costs speed, never records. Serverless Logs also stay at 5 requests per second per "
        "account. Records are written as pages arrive; STATE claims only windows read whole, oldest first.",
    ),
    th.Property(
        "max_request_retries",
        th.IntegerType,
        default=8,
        title="Max Request Retries",
        description="Retries of a failed request (5xx, 429, timeouts, resets, truncated bodies) "
        "with exponential backoff and jitter, honouring Retry-After, before the partition is given up "
        "(the others are still read; the run exits non-zero).",
    ),
    th.Property(
        "progress_interval_seconds",
        th.IntegerType,
        default=5,
        title="Progress Interval (seconds)",
        description="At most one progress line per stream this often (and one at each partition's end): "
        "windows whole of the total, records written, records per second, time left. 0: a line per window.",
    ),
    *[
        th.Property(
            setting,
            th.StringType,
            default=default,
            title=setting.replace("_", " ").title(),
            description=(
                f"Base URL of the API (default {default}); scheme and host only; https, or http on loopback only."
            ),
        )
        for setting, default in BASE_URL_SETTINGS.items()
    ],
    th.Property(
        "twilio_workspace_sids",
        th.ArrayType(th.StringType),
        title="TaskRouter Workspace SIDs",
        description="Only these TaskRouter workspaces (default: every workspace of the account).",
    ),
    th.Property(
        "twilio_service_sids",
        th.ArrayType(th.StringType),
        title="Serverless Service SIDs",
        description="Only these Serverless services (default: every service of the account).",
    ),
)
"""The tap's own settings (the SDK adds its built-in ones to `config_jsonschema` at run time)."""
