"""An Alerts day of many pages is read as several queries at once: each alert once, under both
readings of the filter (`date_created` or `date_generated`, which Twilio does not name), also
alerts on the seconds where one query ends and the next begins."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from urllib.parse import parse_qs, urlsplit

from tests.common import MONITOR_ALERTS, assert_each_once, iso
from tests.monitor_helpers import alerts_of, midnight, monitor_api
from tests.tap_runner import catalog_selecting, run_tap


def _first_pages(emulator) -> list[tuple[str, str]]:
    """(StartDate, EndDate) of every first-page Alerts request, in the order they arrived."""
    ranges = []
    for seen in emulator.seen:
        query = parse_qs(urlsplit(seen.url).query)
        if "/v1/Alerts" in seen.url and "PageToken" not in query and "Page" not in query:
            ranges.append((query["StartDate"][0], query["EndDate"][0]))
    return ranges


def _read_every_alert_once(emulator, day: dt.datetime) -> None:
    """The day read with pages of 100: the run succeeds and emits each of the day's alerts once."""
    config = emulator.tap_config(telnyx_api_key=None, start_date=iso(day), end_date=iso(midnight(0)), page_size=100)

    run = run_tap(config, catalog=catalog_selecting(config, [MONITOR_ALERTS]))

    assert run.returncode == 0, run.stderr
    emitted = [record["sid"] for record in run.records[MONITOR_ALERTS]]
    assert_each_once(emitted, "alert")
    assert set(emitted) == {alert["sid"] for alert in alerts_of(emulator)}


def test_a_busy_day_of_alerts_is_read_by_several_queries_and_each_alert_is_emitted_once(alerts_emulator):
    day = midnight(1)
    rng = random.Random(17)
    moments = [day + dt.timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(1_500)]
    dense_from = day + dt.timedelta(hours=23, minutes=30)
    moments += [dense_from + dt.timedelta(seconds=s, milliseconds=100 * n) for s in range(500) for n in range(3)]
    monitor_api(alerts_emulator).add_alerts(moments)

    _read_every_alert_once(alerts_emulator, day)

    starts = {start for start, _ in _first_pages(alerts_emulator)}
    assert len(starts) > 2, "the day was paged through, not read in pieces"
    busy_seconds = {
        alert[field] for alert in alerts_of(alerts_emulator) for field in ("date_created", "date_generated")
    }
    assert starts & busy_seconds, "no query began on a second holding alerts: the test does not test the boundaries"
    assert monitor_api(alerts_emulator).alerts_refused == 0


def test_a_busy_day_of_alerts_costs_its_first_page_once_then_its_pieces(alerts_emulator):
    """The partition's first query (the probe) is the day's own query, lead included: once its first
    page shows the day busy, the day is read as pieces of that query at once, not asked again (a
    first page read twice) before being split."""
    day = midnight(1)
    rng = random.Random(23)
    monitor_api(alerts_emulator).add_alerts(
        sorted(day + dt.timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(1_200))
    )

    _read_every_alert_once(alerts_emulator, day)

    whole_day = (iso(day - dt.timedelta(minutes=60)), iso(midnight(0)))  # the default buffering lead
    first_pages = _first_pages(alerts_emulator)
    assert first_pages.count(whole_day) == 1, "the day's first page was read more than once"
    pieces = sorted(query for query in first_pages if query != whole_day)
    assert len(pieces) > 2, "the day was paged through, not read in pieces"
    # The pieces cut the day's query once each: every piece asked once, from the lead to the day's end.
    assert pieces[0][0] == whole_day[0] and pieces[-1][1] == whole_day[1]
    assert all(earlier[1] == later[0] for earlier, later in itertools.pairwise(pieces))
