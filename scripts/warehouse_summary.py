"""Print what a DuckDB warehouse loaded by tap-events holds: rows, distinct keys, time span, and
per event stream a chart of records per day, where a missed window or a source outage shows."""

from __future__ import annotations

import datetime as dt
import math
import statistics
import sys
from collections.abc import Mapping

import duckdb

TIME_COLUMNS = ("event_date", "date_created", "created_at")
#: The event streams (not the lists of workspaces, services, environments) and their event time.
EVENT_STREAMS = {
    "twilio_monitor_events": "event_date",
    "twilio_monitor_alerts": "date_created",
    "twilio_taskrouter_events": "event_date",
    "twilio_serverless_logs": "date_created",
    "telnyx_audit_events": "created_at",
}
BARS = "▁▂▃▄▅▆▇█"
#: A day stands out when it holds less than this share of the stream's usual (median) day.
FAR_BELOW_USUAL = 0.25
#: Wider ranges put several days in one column.
MAX_COLUMNS = 60
#: Days that stand out named after the chart, at most.
MAX_NAMED_DAYS = 8


def main(path: str, schema: str = "tap_events") -> None:
    connection = duckdb.connect(path, read_only=True)
    tables = connection.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
    ).fetchall()
    print(f"\nLoaded into {path} (schema {schema}):")
    for (table,) in tables:
        columns = {row[0] for row in connection.execute(f'describe "{schema}"."{table}"').fetchall()}
        key = "id" if "id" in columns else "sid"
        time_column = next((column for column in TIME_COLUMNS if column in columns), None)
        span = f', min("{time_column}"), max("{time_column}")' if time_column else ""
        row = connection.execute(f'select count(*), count(distinct "{key}"){span} from "{schema}"."{table}"').fetchone()
        assert row is not None
        detail = f"  {row[2]} .. {row[3]}" if time_column else ""
        print(f"  {table:<34} {row[0]:>8} rows  {row[1]:>8} distinct {key}{detail}")
    print_records_per_day(connection, schema, [table for (table,) in tables])
    print_audit_trail(connection)


def day_range(counts: Mapping[dt.date, int]) -> list[dt.date]:
    """Every day from the first with records to the last."""
    first, last = min(counts), max(counts)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def days_that_stand_out(counts: Mapping[dt.date, int]) -> tuple[list[dt.date], float]:
    """Days without records, or far below the usual (median) day, and that usual day.

    The first and last day of the range are usually partial (the run started and ended on
    them): they are never "far below", and never empty, since the range ends on records."""
    days = day_range(counts)
    edges = {days[0], days[-1]}
    usual = float(statistics.median(counts.get(day, 0) for day in days[1:-1] or days))
    flagged = [
        day for day in days if counts.get(day, 0) == 0 or (day not in edges and counts[day] < usual * FAR_BELOW_USUAL)
    ]
    return flagged, usual


def records_per_day_chart(name: str, counts: Mapping[dt.date, int], width: int = 30) -> list[str]:
    """One stream's records per day as a line of bars (`!` where a day stands out), and a line
    naming those days; pure, for the summary and for tests."""
    if not counts:
        return [f"  {name:<{width}} no records"]
    days = day_range(counts)
    flagged, usual = days_that_stand_out(counts)
    per_column = math.ceil(len(days) / MAX_COLUMNS)
    columns = [days[start : start + per_column] for start in range(0, len(days), per_column)]
    totals = [sum(counts.get(day, 0) for day in column) for column in columns]
    top = max(totals)
    bars = "".join(
        "!" if any(day in flagged for day in column) else BARS[max(0, math.ceil(total / top * len(BARS)) - 1)]
        for column, total in zip(columns, totals, strict=True)
    )
    scale = "a day" if per_column == 1 else f"{per_column} days"
    lines = [f"  {name:<{width}} {days[0]} {bars} {days[-1]}  (a column is {scale}; usual day {usual:g})"]
    if flagged:
        named = ", ".join(f"{day} ({counts.get(day, 0)})" for day in flagged[:MAX_NAMED_DAYS])
        more = f" and {len(flagged) - MAX_NAMED_DAYS} more" if len(flagged) > MAX_NAMED_DAYS else ""
        lines.append(f"  {'':<{width}} ! {named}{more}")
    return lines


def print_records_per_day(connection: duckdb.DuckDBPyConnection, schema: str, tables: list[str]) -> None:
    """Per event stream loaded, the records per day (UTC) over the days it holds."""
    streams = [table for table in EVENT_STREAMS if table in tables]
    if not streams:
        return
    print("\nRecords per day (UTC); ! = a day without records, or with far fewer than usual:")
    for table in streams:
        column = EVENT_STREAMS[table]
        rows = connection.execute(
            f'select cast("{column}" as date), count(*) from "{schema}"."{table}" '
            f'where "{column}" is not null group by 1'
        ).fetchall()
        for line in records_per_day_chart(table, dict(rows)):
            print(line)


# ---- the audit trail in SQL (transform/) ----------------------------------------------------

#: Each starter detection, and the columns that say what it found.
DETECTIONS = {
    "detect_credential_changes": ("provider", "credential_action", "resource_type", "resource_id", "actor_id"),
    "detect_new_login_ip": ("provider", "actor_id", "source_ip"),
    "detect_alert_surges": ("account_id", "error_code", "alerts", "baseline_per_hour"),
    "detect_bulk_deletions": ("provider", "actor_id", "reason", "deletions_in_hour"),
}


#: Findings listed per detection: the summary stays short (the demo's console budget); the
#: tables, and the OCSF export, hold them all.
MAX_FINDINGS_SHOWN = 3


def print_audit_trail(connection: duckdb.DuckDBPyConnection, schema: str = "analytics") -> None:
    """Activity counts per provider and category, then the findings of each detection (newest first)."""
    built = {
        row[0]
        for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    }
    if "activity" not in built:
        print(f"\nNo audit trail in schema {schema}: run `meltano run dbt-duckdb:build`.")
        return
    print(f"\nActivity ({schema}.activity), per provider and category:")
    counts = connection.execute(
        f'select provider, category, count(*) from "{schema}".activity group by all order by all'
    ).fetchall()
    by_provider: dict[str, list[str]] = {}
    for provider, category, count in counts:
        by_provider.setdefault(provider, []).append(f"{category} {count}")
    for provider, categories in by_provider.items():
        print(f"  {provider:<8} {', '.join(categories)}")
    print(f"\nFindings of the starter detections (newest {MAX_FINDINGS_SHOWN} of each):")
    for detection, columns in DETECTIONS.items():
        if detection not in built:
            continue
        listed = ", ".join(f'"{column}"' for column in columns)
        findings = connection.execute(
            f'select detected_at, {listed} from "{schema}"."{detection}" order by detected_at desc'
        ).fetchall()
        more = f", {len(findings) - MAX_FINDINGS_SHOWN} not shown" if len(findings) > MAX_FINDINGS_SHOWN else ""
        print(f"  {detection}: {len(findings)} finding(s){more}")
        for detected_at, *values in findings[:MAX_FINDINGS_SHOWN]:
            described = "  ".join(f"{column}={value}" for column, value in zip(columns, values, strict=True))
            print(f"    {detected_at:%Y-%m-%d %H:%M:%S}  {described}")


if __name__ == "__main__":
    main(*sys.argv[1:])
