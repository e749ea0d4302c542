"""`twilio_service_sids` restricts the run to those services, their environments and logs."""

from __future__ import annotations

from tests.common import SERVERLESS_ENVIRONMENTS, SERVERLESS_LOGS, SERVERLESS_SERVICES
from tests.serverless_helpers import ALL_STREAMS, logs_since, serverless_config, service_named
from tests.tap_runner import catalog_selecting, run_tap


def test_only_the_configured_services_are_read(emulator):
    chosen, other = service_named(emulator, "service-0"), service_named(emulator, "service-1")
    config = serverless_config(emulator, twilio_service_sids=[chosen["sid"]])

    run = run_tap(config, catalog=catalog_selecting(config, ALL_STREAMS))

    assert run.returncode == 0, run.stderr
    chosen_envs = emulator.serverless.environments_of(chosen["sid"])
    assert [record["sid"] for record in run.records[SERVERLESS_SERVICES]] == [chosen["sid"]]
    assert sorted(r["sid"] for r in run.records[SERVERLESS_ENVIRONMENTS]) == sorted(e["sid"] for e in chosen_envs)
    expected = {sid for env in chosen_envs for sid in logs_since(emulator, config["start_date"], env["sid"])}
    assert sorted(record["sid"] for record in run.records[SERVERLESS_LOGS]) == sorted(expected)
    assert not [seen for seen in emulator.seen if other["sid"] in seen.url]


def test_a_configured_service_that_does_not_exist_is_named_in_a_warning(emulator):
    missing = "ZS" + "ab" * 16
    chosen = service_named(emulator, "service-1")
    config = serverless_config(emulator, twilio_service_sids=[missing, chosen["sid"]])

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_SERVICES]))

    assert run.returncode == 0, run.stderr
    assert "twilio_service_sids names SIDs that no configured account lists" in run.stderr
    assert missing in run.stderr
    assert [record["sid"] for record in run.records[SERVERLESS_SERVICES]] == [chosen["sid"]]
