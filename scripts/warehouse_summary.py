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


if __name__ == "__main__":
    main(*sys.argv[1:])
