"""A service or environment deleted between listing and reading is skipped with one warning."""

from __future__ import annotations

import datetime as dt

import requests

from tests.common import SERVERLESS_ENVIRONMENTS, SERVERLESS_LOGS, iso_exact
from tests.serverless_helpers import (
    ALL_STREAMS,
    AUTH,
    environment_bookmark,
    environments,
    logs_requests,
    logs_since,
    logs_url,
    serverless_config,
    service_named,
)
from tests.tap_runner import catalog_selecting, run_tap


def test_emulator_deletes_an_environment_right_after_listing_it(emulator):
    environment = environments(emulator)[0]
    emulator.serverless.delete_after_listing(environment["sid"])
    listed = requests.get(
        f"{emulator.base_url}/v1/Services/{environment['service_sid']}/Environments",
        auth=AUTH,
        timeout=10,
    ).json()["environments"]

    assert environment["sid"] in {env["sid"] for env in listed}
    assert requests.get(logs_url(emulator, environment), auth=AUTH, timeout=10).status_code == 404


def test_an_environment_deleted_after_listing_is_skipped_whole(emulator):
    deleted, *others = environments(emulator)
    emulator.serverless.delete_after_listing(deleted["sid"])
    now = dt.datetime.now(dt.UTC)
    config = serverless_config(emulator, start_date=iso_exact(now - dt.timedelta(days=10)), max_concurrent_requests=3)

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "skipping the rest of a partition" in line]
    assert len(warnings) == 1
    assert f"Environments/{deleted['sid']}" in warnings[0]
    to_deleted = [seen.status for seen in logs_requests(emulator) if deleted["sid"] in seen.url]
    # 11 one-day windows; only those already being read ahead (3 at a time) were requested.
    assert set(to_deleted) == {404}
    assert len(to_deleted) <= 3
    expected = {sid for env in others for sid in logs_since(emulator, config["start_date"], env["sid"])}
    assert sorted(record["sid"] for record in run.records[SERVERLESS_LOGS]) == sorted(expected)
    assert environment_bookmark(run, deleted) is None


def test_a_service_deleted_after_listing_is_skipped(emulator):
    deleted = service_named(emulator, "service-0")
    emulator.serverless.delete_after_listing(deleted["sid"])
    config = serverless_config(emulator)

    run = run_tap(config, catalog=catalog_selecting(config, ALL_STREAMS))

    assert run.returncode == 0, run.stderr
    assert "skipping a partition that no longer exists" in run.stderr
    assert deleted["sid"] in run.stderr
    remaining = environments(emulator)
    assert [env["service_sid"] for env in remaining] == [service_named(emulator, "service-1")["sid"]]
    assert sorted(r["sid"] for r in run.records[SERVERLESS_ENVIRONMENTS]) == sorted(env["sid"] for env in remaining)
    assert {r["environment_sid"] for r in run.records[SERVERLESS_LOGS]} == {remaining[0]["sid"]}


def test_the_closing_report_names_the_deleted_environment_skipped(emulator):
    deleted = environments(emulator)[0]
    emulator.serverless.delete_after_listing(deleted["sid"])
    config = serverless_config(emulator)

    run = run_tap(config, catalog=catalog_selecting(config, [SERVERLESS_LOGS]))

    assert run.returncode == 0, run.stderr
    assert run.run_report["status"] == "succeeded"
    skipped = {entry["partition"]: entry["skipped"] for entry in run.run_report["partitions"] if entry["skipped"]}
    [(partition, why)] = skipped.items()
    assert partition.endswith(f"environment {deleted['sid']}")
    assert why == "deleted"
