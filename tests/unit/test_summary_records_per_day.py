"""The warehouse summary's records-per-day chart: one line of bars per event stream, where a day
without records, or with far fewer than usual (a missed window, a source outage), stands out as
`!` and is named below the bars."""

from __future__ import annotations

import datetime as dt

import duckdb

from scripts.warehouse_summary import MAX_COLUMNS, main, records_per_day_chart
from tests.common import MONITOR_EVENTS, TELNYX_AUDIT_EVENTS

START = dt.date(2026, 11, 1)


def days(*counts: int) -> dict[dt.date, int]:
    """Consecutive days from START with these counts; 0 = no row for that day."""
    return {START + dt.timedelta(days=n): count for n, count in enumerate(counts) if count}


def bars(lines: list[str]) -> str:
    return lines[0].split()[2]


def test_a_day_without_records_stands_out_and_is_named():
    lines = records_per_day_chart("events", days(20, 20, 20, 0, 20, 20))

    assert bars(lines) == "███!██"
    assert lines[1].split() == ["!", "2026-11-04", "(0)"]


def test_a_day_far_below_the_usual_day_stands_out_and_is_named():
    lines = records_per_day_chart("events", days(20, 22, 18, 3, 20, 21))

    assert bars(lines)[3] == "!" and bars(lines).count("!") == 1
    assert "2026-11-04 (3)" in lines[1]


def test_ordinary_days_do_not_stand_out():
    lines = records_per_day_chart("events", days(20, 12, 30, 9, 20, 21))

    assert "!" not in bars(lines) and len(lines) == 1


def test_the_partial_first_and_last_days_are_not_far_below():
    lines = records_per_day_chart("events", days(1, 20, 20, 20, 2))

    assert "!" not in bars(lines) and len(lines) == 1


def test_bars_scale_to_the_busiest_day():
    assert bars(records_per_day_chart("events", days(8, 16, 32, 32))) == "▂▄██"


def test_a_long_backfill_fits_in_the_column_limit():
    lines = records_per_day_chart("events", days(*[10] * 400))

    assert len(bars(lines)) <= MAX_COLUMNS
    assert "(a column is 7 days" in lines[0]


def test_the_summary_prints_a_chart_for_each_event_stream_only(tmp_path, capsys):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema tap_events")
        connection.execute("create table tap_events.twilio_monitor_events (sid varchar, event_date timestamp)")
        connection.execute("create table tap_events.telnyx_audit_events (id varchar, created_at timestamp)")
        connection.execute("create table tap_events.twilio_serverless_services (sid varchar, date_created timestamp)")
        for n, day in enumerate([1, 1, 2, 4, 5, 5]):
            connection.execute(
                "insert into tap_events.twilio_monitor_events values (?, ?)", [f"AE{n}", dt.datetime(2026, 11, day, 12)]
            )
        connection.execute("insert into tap_events.telnyx_audit_events values ('a', '2026-11-03 08:00:00')")
        connection.execute("insert into tap_events.twilio_serverless_services values ('ZS1', '2026-11-03 08:00:00')")

    main(str(path))

    printed = capsys.readouterr().out.splitlines()
    after = printed[printed.index(next(line for line in printed if line.startswith("Records per day"))) + 1 :]
    charts = after[: after.index("")] if "" in after else after  # the chart ends where the next section starts
    assert [line.split()[0] for line in charts if not line.lstrip().startswith("!")] == [
        MONITOR_EVENTS,
        TELNYX_AUDIT_EVENTS,
    ]
    assert charts[0].split()[1:4] == ["2026-11-01", "█▄!▄█", "2026-11-05"]
    assert charts[1].split()[1] == "2026-11-03"
