"""A wrong setting is rejected before any request, naming the setting, without a traceback."""

from __future__ import annotations

import pytest

from tests.common import twilio_config
from tests.tap_runner import run_tap_process

BAD_SETTINGS = {
    "account SID that is not AC + 32 hex": ({"twilio_account_sid": "AC123"}, "twilio_account_sid"),
    "API key SID that is not SK + 32 hex": (
        {"twilio_api_key_sid": "KEY123", "twilio_api_key_secret": "s"},
        "twilio_api_key_sid",
    ),
    "API key SID without its secret": ({"twilio_api_key_sid": "SK" + "0" * 32}, "twilio_api_key_secret"),
    "page_size 0": ({"page_size": 0}, "page_size"),
    "page_size above 1000": ({"page_size": 1001}, "page_size"),
    "negative lookback": ({"lookback_window_minutes": -5}, "lookback_window_minutes"),
    "alerts buffering over a day": (
        {"twilio_alerts_max_buffering_minutes": 1441},
        "twilio_alerts_max_buffering_minutes",
    ),
    "unparsable start_date": ({"start_date": "last tuesday"}, "start_date"),
    "unparsable end_date": ({"end_date": "2026-13-45"}, "end_date"),
    "end_date before start_date": (
        {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        "end_date",
    ),
    "plain http to a remote host": (
        {"twilio_monitor_base_url": "http://monitor.example.com"},
        "twilio_monitor_base_url",
    ),
    "not a URL": ({"telnyx_base_url": "api.telnyx.com"}, "telnyx_base_url"),
    "base URL with a path": ({"twilio_monitor_base_url": "https://monitor.twilio.com/v1"}, "twilio_monitor_base_url"),
    "end_date alone, before the 30 days a run reads without start_date": (
        {"start_date": None, "end_date": "2025-01-01T00:00:00Z"},
        "end_date",
    ),
    "workspace SID of the wrong kind": ({"twilio_workspace_sids": ["ZS" + "0" * 32]}, "twilio_workspace_sids"),
    "no credentials at all": (
        {"twilio_auth_token": None, "telnyx_api_key": None},
        "twilio_account_sid",
    ),
}


@pytest.mark.parametrize("overrides,setting", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_setting_is_rejected_before_any_request(emulator, overrides, setting):
    config = emulator.tap_config(**overrides)

    run = run_tap_process(config)

    assert run.returncode != 0
    assert setting in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    assert emulator.seen == [], "a request was sent despite invalid settings"


def test_a_provider_without_credentials_is_skipped_with_one_log_line(emulator):
    config = emulator.tap_config(telnyx_api_key=None, start_date="2026-11-20T00:00:00Z")

    run = run_tap_process(config)

    assert run.returncode == 0, run.stderr
    assert run.stderr.count("Telnyx credentials are not set") == 1
    assert not any(name.startswith("telnyx_") for name in run.records)


def test_loopback_http_base_url_is_accepted(emulator):
    assert twilio_config(emulator)["twilio_monitor_base_url"].startswith("http://127.0.0.1:")

    run = run_tap_process(twilio_config(emulator, start_date="2026-11-20T00:00:00Z"))

    assert run.returncode == 0, run.stderr
