"""No secret appears in logs (even at DEBUG), errors, STATE, records or --about output."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.tap_runner import run_tap_process

AUTH_TOKEN = "marker-auth-token-5f1e"
API_KEY_SID = "SK" + "5f1e" * 8
API_KEY_SECRET = "marker-api-key-secret-5f1e"
TELNYX_KEY = "KEYmarker-telnyx-5f1e"
SECRETS = [AUTH_TOKEN, API_KEY_SECRET, TELNYX_KEY]


def _leaks(text: str) -> list[str]:
    """Each secret, and the Basic-auth encodings that would carry it."""
    found = [secret for secret in SECRETS if secret in text]
    for user, password in ((DEFAULT_ACCOUNT_SID, AUTH_TOKEN), (API_KEY_SID, API_KEY_SECRET)):
        if base64.b64encode(f"{user}:{password}".encode()).decode() in text:
            found.append(f"basic({user})")
    return found


@pytest.fixture
def marked_emulator(emulator):
    emulator.twilio_accounts[DEFAULT_ACCOUNT_SID] = AUTH_TOKEN
    emulator.twilio_api_keys[API_KEY_SID] = (API_KEY_SECRET, DEFAULT_ACCOUNT_SID)
    emulator.telnyx_api_keys[TELNYX_KEY] = "org-marker"
    return emulator


def test_a_successful_debug_run_writes_no_secret(marked_emulator):
    config = marked_emulator.tap_config(
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_key_sid=API_KEY_SID,
        twilio_api_key_secret=API_KEY_SECRET,
        telnyx_api_key=TELNYX_KEY,
        start_date=(dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat(),
    )

    run = run_tap_process(config, env={"LOGLEVEL": "DEBUG"})

    assert run.returncode == 0, run.stderr
    assert "DEBUG" in run.stderr
    assert _leaks(run.stdout) == []
    assert _leaks(run.stderr) == []


def test_a_refused_credential_is_not_echoed(marked_emulator):
    config = marked_emulator.tap_config(
        twilio_auth_token=AUTH_TOKEN + "-wrong",
        telnyx_api_key=None,
    )

    run = run_tap_process(config, env={"LOGLEVEL": "DEBUG"})

    assert run.returncode != 0
    assert "authentication failed for Twilio" in run.stderr
    assert "HTTP 401" in run.stderr and "20003" in run.stderr
    assert AUTH_TOKEN not in run.stderr + run.stdout


def test_about_output_shows_no_secret(marked_emulator):
    config = marked_emulator.tap_config(twilio_auth_token=AUTH_TOKEN, telnyx_api_key=TELNYX_KEY)

    for about_format in ("json", "markdown"):
        run = run_tap_process(config, extra=["--about", f"--format={about_format}"])
        assert run.returncode == 0, run.stderr
        assert _leaks(run.stdout + run.stderr) == []


BAD_SETTINGS_WITH_SECRETS = {
    "auth token of the wrong type": {"twilio_auth_token": 987654321987},
    "accounts given as text": {
        "twilio_accounts": f'[{{"account_sid": "{DEFAULT_ACCOUNT_SID}", "auth_token": "{AUTH_TOKEN}"}}]'
    },
    "key SID and secret swapped": {"twilio_api_key_sid": API_KEY_SECRET, "twilio_api_key_secret": API_KEY_SID},
    "password in a base URL": {"telnyx_base_url": f"https://user:{TELNYX_KEY}@api.telnyx.com"},
    "API key with a line break": {"telnyx_api_key": TELNYX_KEY + "\n"},
}


@pytest.mark.parametrize("overrides", BAD_SETTINGS_WITH_SECRETS.values(), ids=BAD_SETTINGS_WITH_SECRETS.keys())
def test_a_rejected_setting_is_named_but_its_secret_is_not_echoed(emulator, overrides):
    run = run_tap_process(emulator.tap_config(**overrides))

    assert run.returncode != 0
    assert any(name in run.stderr for name in overrides)
    assert _leaks(run.stderr + run.stdout) == [] and "987654321987" not in run.stderr
    assert emulator.seen == []
