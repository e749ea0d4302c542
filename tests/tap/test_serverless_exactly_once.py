"""One run emits every service, environment and log exactly once, logs tagged with their parents."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import (
    SERVERLESS_ENVIRONMENTS,
    SERVERLESS_LOGS,
    SERVERLESS_SERVICES,
    assert_each_once,
    iso_exact,
    parse,
)
from tests.serverless_helpers import (
    ALL_STREAMS,
    RECENT,
    environment_bookmark,
    environment_bookmarks,
    environments,
    logs_since,
    serverless_api,
    serverless_config,
)
from tests.tap_runner import catalog_selecting, run_tap


def _midnight() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def served():
    """One run of the three streams, shared by this file's tests.

    The default data, plus three logs exactly at midnight: the boundary between two windows.
    """
    with Emulator() as emulator:
        for environment in environments(emulator):
            serverless_api(emulator).add_logs(environment["service_sid"], environment["sid"], [_midnight()] * 3)
        since = min(dt.datetime.now(dt.UTC) - RECENT, _midnight() - dt.timedelta(hours=1))
        config = serverless_config(emulator, start_date=iso_exact(since), page_size=7)  # several pages per window
        run = run_tap(config, catalog=catalog_selecting(config, ALL_STREAMS))
        assert run.returncode == 0, run.stderr
        yield emulator, config, run


def test_every_log_of_every_environment_is_emitted_exactly_once(served):
    emulator, config, run = served

    emitted = [record["sid"] for record in run.records[SERVERLESS_LOGS]]
    assert_each_once(emitted, "log")
    assert set(emitted) == set(logs_since(emulator, config["start_date"]))
    assert len({record["environment_sid"] for record in run.records[SERVERLESS_LOGS]}) == 3


def test_each_log_carries_its_service_and_environment(served):
    emulator, _, run = served

    parents = {
        log["sid"]: (env["service_sid"], env["sid"])
        for env in environments(emulator)
        for log in emulator.serverless.logs_of(env["sid"])
    }
    assert run.records[SERVERLESS_LOGS]
    for record in run.records[SERVERLESS_LOGS]:
        assert (record["service_sid"], record["environment_sid"]) == parents[record["sid"]]


def test_a_log_on_a_window_boundary_is_emitted_once(served):
    """EndDate is inclusive in the emulator: a log at midnight is in two day windows' answers."""
    emulator, config, run = served

    at_midnight = {
        sid
        for sid, log in logs_since(emulator, config["start_date"]).items()
        if parse(log["date_created"]) == _midnight()
    }
    assert len(at_midnight) >= 9  # three per environment (and the default data's, after midnight)
    emitted = [record["sid"] for record in run.records[SERVERLESS_LOGS] if record["sid"] in at_midnight]
    assert sorted(emitted) == sorted(at_midnight)


def test_services_and_environments_are_emitted_whole(served):
    emulator, _, run = served

    services = [service["sid"] for service in emulator.serverless.services[DEFAULT_ACCOUNT_SID]]
    assert sorted(record["sid"] for record in run.records[SERVERLESS_SERVICES]) == sorted(services)
    assert sorted(record["sid"] for record in run.records[SERVERLESS_ENVIRONMENTS]) == sorted(
        env["sid"] for env in environments(emulator)
    )


def test_one_bookmark_per_environment_at_its_newest_log(served):
    emulator, _, run = served

    for environment in environments(emulator):
        newest = max(log["date_created"] for log in emulator.serverless.logs_of(environment["sid"]))
        assert environment_bookmark(run, environment) == newest


def test_state_never_claims_a_log_not_yet_emitted(served):
    emulator, _, run = served

    newest_emitted: dict[str, str] = {}
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == SERVERLESS_LOGS:
            record = message["record"]
            env = record["environment_sid"]
            newest_emitted[env] = max(newest_emitted.get(env, ""), record["date_created"])
        elif message["type"] == "STATE":
            for environment in environments(emulator):
                for bookmark in environment_bookmarks(message["value"], environment):
                    assert bookmark is None or bookmark <= newest_emitted.get(environment["sid"], "")
