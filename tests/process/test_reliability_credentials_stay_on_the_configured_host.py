"""Credentials go only to the configured base URL: redirects are not followed, a dead host is retried."""

from __future__ import annotations

import socket

from emulator import Emulator
from tests.common import MONITOR_EVENTS, twilio_config
from tests.tap_runner import catalog_selecting, run_tap_process


def test_a_redirect_to_another_host_is_not_followed(emulator):
    with Emulator() as foreign:
        emulator.faults.add("/v1/Events", status=302, location=f"{foreign.base_url}/v1/Events", times=1)

        config = twilio_config(emulator)
        run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

        assert run.returncode != 0
        assert "unexpected redirect, not followed" in run.stderr and "HTTP 302" in run.stderr
        assert foreign.seen == [], "no request, so no credential, reached the other host"


def test_a_refused_connection_is_retried_then_reported_with_the_endpoint(emulator):
    with socket.socket() as probe:  # a loopback port where nothing listens
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = twilio_config(emulator, twilio_monitor_base_url=dead, max_request_retries=2)
    catalog = catalog_selecting(config, [MONITOR_EVENTS])

    run = run_tap_process(config, catalog=catalog)

    assert run.returncode != 0
    assert f"twilio_monitor_events: GET {dead}/v1/Events" in run.stderr
    assert "failed after retrying: ConnectionError" in run.stderr
    assert run.stderr.count("ConnectionError on GET") >= 2  # each retry logged with its cause
    assert "Traceback" not in run.stderr
