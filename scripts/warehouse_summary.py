"""Print what a DuckDB warehouse loaded by tap-events holds: rows, distinct keys, time span."""

from __future__ import annotations

import sys

import duckdb

TIME_COLUMNS = ("event_date", "date_created", "created_at")


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
    print_audit_trail(connection)


# ---- the audit trail in SQL (transform/) ----------------------------------------------------

#: Each starter detection, and the columns that say what it found.
DETECTIONS = {
    "detect_credential_changes": ("provider", "credential_action", "resource_type", "resource_id", "actor_id"),
    "detect_new_login_ip": ("provider", "actor_id", "source_ip"),
    "detect_alert_surges": ("account_id", "error_code", "alerts", "baseline_per_hour"),
    "detect_bulk_deletions": ("provider", "actor_id", "reason", "deletions_in_hour"),
}


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
    for provider, category, count in counts:
        print(f"  {provider:<8} {category:<16} {count:>8}")
    for detection, columns in DETECTIONS.items():
        if detection not in built:
            continue
        listed = ", ".join(f'"{column}"' for column in columns)
        findings = connection.execute(
            f'select detected_at, {listed} from "{schema}"."{detection}" order by detected_at desc'
        ).fetchall()
        print(f"\n{detection}: {len(findings)} finding(s)")
        for detected_at, *values in findings[:10]:
            described = "  ".join(f"{column}={value}" for column, value in zip(columns, values, strict=True))
            print(f"  {detected_at:%Y-%m-%d %H:%M:%S}  {described}")
        if len(findings) > 10:
            print(f"  ... and {len(findings) - 10} more")


if __name__ == "__main__":
    main(*sys.argv[1:])
