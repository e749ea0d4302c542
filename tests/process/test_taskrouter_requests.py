"""How the tap asks for events: always a window, strict timestamps, next_page_url as given."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from tests.common import TASKROUTER_EVENTS, parse, twilio_config
from tests.tap_runner import run_tap_process
from tests.taskrouter_helpers import all_event_sids, catalog, events_by_workspace, events_requests, sids

STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_every_events_request_sends_start_and_end_date_in_the_strict_format(emulator):
    run = run_tap_process(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    urls = events_requests(emulator)
    assert urls
    for url in urls:
        query = _query(url)
        assert STRICT.match(query["StartDate"][0]), url
        assert STRICT.match(query["EndDate"][0]), url
    assert all(seen.status == 200 for seen in emulator.seen)
    assert twilio_config(emulator)["twilio_auth_token"] not in run.stdout + run.stderr


def test_events_older_than_the_default_15_minutes_are_read(emulator):
    cutoff = emulator.now - dt.timedelta(minutes=15)

    run = run_tap_process(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    older = {sid for sid in all_event_sids(emulator)} - {
        e["sid"]
        for events in events_by_workspace(emulator).values()
        for e in events
        if parse(e["event_date"]) >= cutoff
    }
    assert older
    assert older <= sids(run.records[TASKROUTER_EVENTS])


def test_a_start_date_with_a_fraction_and_an_offset_is_sent_in_the_strict_format(emulator):
    local = (emulator.now - dt.timedelta(days=3)).astimezone(dt.timezone(dt.timedelta(hours=2)))
    start_date = local.replace(microsecond=123456).isoformat()
    start = parse(start_date)
    config = twilio_config(emulator, start_date=start_date)

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    first_start_dates = {_query(url)["StartDate"][0] for url in events_requests(emulator)}
    assert start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") in first_start_dates
    expected = {
        e["sid"] for events in events_by_workspace(emulator).values() for e in events if parse(e["event_date"]) >= start
    }
    assert sids(run.records[TASKROUTER_EVENTS]) == expected


def test_next_page_url_is_followed_as_given_and_page_numbers_are_never_invented(emulator):
    # One request at a time: no busy window is read as pieces, so every next page is followed.
    config = twilio_config(emulator, page_size=2, max_concurrent_requests=1)

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    handed_out = emulator.taskrouter.next_page_urls
    followed = [url for url in events_requests(emulator) if "PageToken=" in url or "Page=" in url]
    assert handed_out
    assert sorted(followed) == sorted(handed_out)


def test_a_next_page_url_to_another_host_is_refused(emulator):
    emulator.link_origin = "http://127.0.0.2:9"
    config = twilio_config(emulator, page_size=1)

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode != 0
    assert "refusing to follow next_page_url to http://127.0.0.2:9" in run.stderr
    assert not [url for url in events_requests(emulator) if "PageToken=" in url]


def test_a_start_date_older_than_the_retention_is_clamped_with_one_log_line(emulator):
    # Since 2021-11-30 TaskRouter refuses (HTTP 400) a StartDate more than 30 days back.
    config = twilio_config(emulator, start_date=(emulator.now - dt.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ"))

    run = run_tap_process(config, catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert run.stderr.count("the API keeps about 30 days of data") == 1  # not once per workspace
    assert all(seen.status == 200 for seen in emulator.seen)
    assert sids(run.records[TASKROUTER_EVENTS]) == all_event_sids(emulator)


def test_the_default_start_reads_30_days_without_a_refused_request(emulator):
    # The default start is 30 days before the run started: sent a moment later, it would be refused.
    run = run_tap_process(twilio_config(emulator), catalog=catalog(TASKROUTER_EVENTS))

    assert run.returncode == 0, run.stderr
    assert all(seen.status == 200 for seen in emulator.seen)
    assert sids(run.records[TASKROUTER_EVENTS]) == all_event_sids(emulator)
