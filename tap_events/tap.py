"""tap-events: telecom audit and event logs from Twilio and Telnyx."""

from __future__ import annotations

import ipaddress
import re
import sys
import typing as t
from urllib.parse import urlsplit

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tap_events import monitor, serverless, taskrouter, telnyx
from tap_events.timestamps import parse_timestamp

TWILIO_STREAMS: list[type[Stream]] = [*monitor.STREAMS, *taskrouter.STREAMS, *serverless.STREAMS]
TELNYX_STREAMS: list[type[Stream]] = [*telnyx.STREAMS]

BASE_URL_SETTINGS = {
    "twilio_monitor_base_url": "https://monitor.twilio.com",
    "twilio_taskrouter_base_url": "https://taskrouter.twilio.com",
    "twilio_serverless_base_url": "https://serverless.twilio.com",
    "telnyx_base_url": "https://api.telnyx.com",
}
SID_PATTERNS = {
    "twilio_account_sid": ("AC", re.compile(r"^AC[0-9a-fA-F]{32}$")),
    "twilio_api_key_sid": ("SK", re.compile(r"^SK[0-9a-fA-F]{32}$")),
}
LIST_SID_PATTERNS = {
    "twilio_workspace_sids": ("WS", re.compile(r"^WS[0-9a-fA-F]{32}$")),
    "twilio_service_sids": ("ZS", re.compile(r"^ZS[0-9a-fA-F]{32}$")),
}


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every problem with the settings, each naming its setting and never echoing a secret."""
    errors: list[str] = []
    for setting, (prefix, pattern) in SID_PATTERNS.items():
        value = config.get(setting)
        if value and not pattern.match(str(value)):
            errors.append(f"{setting} must be '{prefix}' followed by 32 hexadecimal characters, got {value!r}.")
    for setting, (prefix, pattern) in LIST_SID_PATTERNS.items():
        for value in config.get(setting) or []:
            if not pattern.match(str(value)):
                errors.append(f"{setting} entries must be '{prefix}' followed by 32 hexadecimal characters, got {value!r}.")
    for setting in ("start_date", "end_date"):
        value = config.get(setting)
        if value is None:
            continue
        try:
            parse_timestamp(str(value))
        except ValueError:
            errors.append(f"{setting} must be an ISO 8601 date or date-time such as 2026-01-31T00:00:00Z, got {value!r}.")
    if not errors and config.get("start_date") and config.get("end_date"):
        if parse_timestamp(config["end_date"]) <= parse_timestamp(config["start_date"]):
            errors.append("end_date must be later than start_date.")
    page_size = config.get("page_size")
    if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 1000):
        errors.append(f"page_size must be an integer from 1 to 1000, got {page_size!r}.")
    for setting, minimum in (("lookback_window_minutes", 0), ("max_request_retries", 0), ("request_timeout_seconds", 1)):
        value = config.get(setting)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            errors.append(f"{setting} must be a whole number, {minimum} or more, got {value!r}.")
    for setting in BASE_URL_SETTINGS:
        value = config.get(setting)
        if value is None:
            continue
        parts = urlsplit(str(value))
        if parts.scheme not in ("https", "http") or not parts.hostname:
            errors.append(f"{setting} must be an absolute URL such as https://host, got {value!r}.")
        elif parts.scheme != "https" and not _is_loopback(parts.hostname):
            errors.append(f"{setting} must use https (plain http is allowed only for loopback addresses), got {value!r}.")
        elif parts.query or parts.fragment or parts.username or parts.password:
            errors.append(f"{setting} must be a bare scheme://host[:port] URL without query, fragment or user info.")
    has_token = bool(config.get("twilio_auth_token"))
    has_key = bool(config.get("twilio_api_key_sid")) and bool(config.get("twilio_api_key_secret"))
    if bool(config.get("twilio_api_key_sid")) != bool(config.get("twilio_api_key_secret")):
        errors.append("twilio_api_key_sid and twilio_api_key_secret must be given together.")
    if (has_token or has_key) and not config.get("twilio_account_sid"):
        errors.append("twilio_account_sid is required with Twilio credentials.")
    if not twilio_configured(config) and not telnyx_configured(config):
        errors.append(
            "No credentials: set twilio_account_sid with twilio_auth_token (or twilio_api_key_sid and "
            "twilio_api_key_secret), and/or telnyx_api_key."
        )
    return errors


def twilio_configured(config: t.Mapping[str, t.Any]) -> bool:
    has_secret = bool(config.get("twilio_auth_token")) or (
        bool(config.get("twilio_api_key_sid")) and bool(config.get("twilio_api_key_secret"))
    )
    return bool(config.get("twilio_account_sid")) and has_secret


def telnyx_configured(config: t.Mapping[str, t.Any]) -> bool:
    return bool(config.get("telnyx_api_key"))


class TapEvents(Tap):
    """Singer tap for Twilio Monitor, TaskRouter, Serverless and Telnyx audit events."""

    name = "tap-events"

    config_jsonschema = th.PropertiesList(
        th.Property("twilio_account_sid", th.StringType, title="Twilio Account SID",
                    description="The account to read: 'AC' followed by 32 hex characters."),
        th.Property("twilio_auth_token", th.StringType, secret=True, title="Twilio Auth Token",
                    description="The account's auth token (or use an API key pair below)."),
        th.Property("twilio_api_key_sid", th.StringType, title="Twilio API Key SID",
                    description="Optional 'SK…' API key: with its secret, used instead of the auth token."),
        th.Property("twilio_api_key_secret", th.StringType, secret=True, title="Twilio API Key Secret",
                    description="Secret of the API key."),
        th.Property("telnyx_api_key", th.StringType, secret=True, title="Telnyx API Key",
                    description="Telnyx v2 API key, sent as a Bearer token."),
        th.Property("start_date", th.DateTimeType, title="Start Date",
                    description="Earliest record to read (ISO 8601). Default: 30 days before now."),
        th.Property("end_date", th.DateTimeType, title="End Date",
                    description="Optional upper bound (exclusive, ISO 8601), for fixed backfills."),
        th.Property("lookback_window_minutes", th.IntegerType, default=10, title="Lookback Window (minutes)",
                    description="How far before the bookmark an incremental run re-reads, to catch "
                                "late-arriving events; duplicates are resolved by primary key downstream."),
        th.Property("page_size", th.IntegerType, default=1000, title="Page Size",
                    description="Records per request, 1 to 1000 (Telnyx pages are capped at 250)."),
        th.Property("request_timeout_seconds", th.IntegerType, default=60, title="Request Timeout (seconds)",
                    description="How long to wait for an API to connect and for each read of its answer."),
        th.Property("max_request_retries", th.IntegerType, default=8, title="Max Request Retries",
                    description="Retries of a failed request (5xx, 429, timeouts, resets, truncated bodies) "
                                "with exponential backoff and jitter, honouring Retry-After, before the run fails."),
        *[
            th.Property(setting, th.StringType, default=default, title=setting.replace("_", " ").title(),
                        description=f"Base URL of the API (default {default}); https, or http on loopback only.")
            for setting, default in BASE_URL_SETTINGS.items()
        ],
        th.Property("twilio_workspace_sids", th.ArrayType(th.StringType), title="TaskRouter Workspace SIDs",
                    description="Only these TaskRouter workspaces (default: every workspace of the account)."),
        th.Property("twilio_service_sids", th.ArrayType(th.StringType), title="Serverless Service SIDs",
                    description="Only these Serverless services (default: every service of the account)."),
    ).to_dict()

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=False)
        errors = errors or setting_errors(self._config)
        if errors and raise_errors:
            summary = "Invalid settings, nothing was requested: " + " ".join(errors)
            raise ConfigValidationError(summary, errors=[summary], schema=None)
        return errors

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """An API failure ends the run with its one-paragraph message, not a traceback."""
        try:
            super().invoke(*args, **kwargs)
        except FatalAPIError as exc:
            cls.logger.error("%s", exc)  # noqa: TRY400
            sys.exit(1)

    def discover_streams(self) -> list[Stream]:
        config = self._config
        if not twilio_configured(config) and not telnyx_configured(config):
            # --about and --discover without credentials: describe every stream.
            return [cls(tap=self) for cls in (*TWILIO_STREAMS, *TELNYX_STREAMS)]
        stream_types: list[type[Stream]] = []
        for provider, configured, types in (
            ("Twilio", twilio_configured(config), TWILIO_STREAMS),
            ("Telnyx", telnyx_configured(config), TELNYX_STREAMS),
        ):
            if configured:
                stream_types += types
            else:
                self.logger.info("%s credentials are not set: skipping the %s streams.", provider, provider)
        return [cls(tap=self) for cls in stream_types]


if __name__ == "__main__":
    TapEvents.cli()
