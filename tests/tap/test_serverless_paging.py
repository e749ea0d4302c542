"""The emulator pages Serverless lists with `meta` exactly as Twilio's spec shows it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import requests

from tests.common import assert_each_once, iso_exact
from tests.serverless_helpers import AUTH, environments, logs_since, logs_url

META_KEYS = {
    "first_page_url",
    "key",
    "next_page_url",
    "page",
    "page_size",
    "previous_page_url",
    "url",
}


def test_logs_pages_carry_the_spec_meta_and_echo_the_filters(emulator):
    environment = environments(emulator)[0]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    until = dt.datetime.now(dt.UTC)
    params = {"StartDate": iso_exact(since), "EndDate": iso_exact(until), "PageSize": "10"}

    first = requests.get(logs_url(emulator, environment), params=params, auth=AUTH, timeout=10).json()
    second = requests.get(first["meta"]["next_page_url"], auth=AUTH, timeout=10).json()

    meta = first["meta"]
    assert set(meta) == META_KEYS
    assert (meta["key"], meta["page"], meta["page_size"], meta["previous_page_url"]) == (
        "logs",
        0,
        10,
        None,
    )
    for url in (meta["first_page_url"], meta["url"], meta["next_page_url"]):
        query = parse_qs(urlsplit(url).query)
        assert query["StartDate"] == [iso_exact(since)]
        assert query["EndDate"] == [iso_exact(until)]
        assert query["PageSize"] == ["10"]
    assert "PageToken" in parse_qs(urlsplit(meta["next_page_url"]).query)
    assert second["meta"]["page"] == 1
    assert second["meta"]["previous_page_url"] is not None
    assert not {log["sid"] for log in first["logs"]} & {log["sid"] for log in second["logs"]}


def test_following_next_page_url_reads_every_log_once(emulator):
    emulator.serverless.rate_limit = 1000  # about paging, not the rate limit
    environment = environments(emulator)[0]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)
    url: str | None = logs_url(emulator, environment)
    params: dict = {"StartDate": iso_exact(since), "PageSize": 4}
    sids: list[str] = []
    while url:
        body = requests.get(url, params=params, auth=AUTH, timeout=10).json()
        sids += [log["sid"] for log in body["logs"]]
        url, params = body["meta"]["next_page_url"], {}

    assert_each_once(sids, "log")
    assert set(sids) == set(logs_since(emulator, since, environment["sid"]))


def test_services_and_environments_lists_have_their_own_key(emulator):
    services = requests.get(f"{emulator.base_url}/v1/Services", auth=AUTH, timeout=10).json()
    service_sid = environments(emulator)[0]["service_sid"]
    envs = requests.get(f"{emulator.base_url}/v1/Services/{service_sid}/Environments", auth=AUTH, timeout=10).json()

    assert services["meta"]["key"] == "services"
    assert envs["meta"]["key"] == "environments"
    assert set(services["meta"]) == set(envs["meta"]) == META_KEYS
    assert len(services["services"]) == 3
    assert {env["service_sid"] for env in envs["environments"]} == {service_sid}


def test_unknown_service_and_environment_answer_twilio_404(emulator):
    environment = environments(emulator)[0]
    unknown_service = f"{emulator.base_url}/v1/Services/ZS{'0' * 32}/Environments"
    unknown_environment = logs_url(emulator, {**environment, "sid": f"ZE{'0' * 32}"})

    for url in (unknown_service, unknown_environment):
        response = requests.get(url, auth=AUTH, timeout=10)
        assert response.status_code == 404
        assert response.json()["code"] == 20404


def test_wrong_credentials_answer_twilio_401(emulator):
    response = requests.get(logs_url(emulator, environments(emulator)[0]), auth=(AUTH[0], "wrong"), timeout=10)

    assert response.status_code == 401
    assert response.json()["code"] == 20003
