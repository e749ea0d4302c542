"""The warehouses the Meltano tests load into: the same questions asked of DuckDB or PostgreSQL."""

from __future__ import annotations

import typing as t
from pathlib import Path

from tests.meltano_helpers import SCHEMA, Key


class Warehouse(t.Protocol):
    def query(self, sql: str, parameters: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]: ...
    def tables(self) -> set[str]: ...
    def count(self, table: str) -> int: ...
    def keys(self, table: str, columns: t.Sequence[str]) -> list[Key]: ...
    def column_types(self, table: str) -> dict[str, str]: ...
    def values(self, table: str, column: str) -> list[t.Any]: ...


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _SQLWarehouse:
    schema = SCHEMA

    def query(self, sql: str, parameters: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        raise NotImplementedError

    def tables(self) -> set[str]:
        rows = self.query(
            "select table_name from information_schema.tables where table_schema = ?",
            [self.schema],
        )
        return {row[0] for row in rows}

    def count(self, table: str) -> int:
        return int(self.query(f"select count(*) from {self._table(table)}")[0][0])

    def keys(self, table: str, columns: t.Sequence[str]) -> list[Key]:
        listed = ", ".join(quote_identifier(column) for column in columns)
        rows = self.query(f"select {listed} from {self._table(table)}")
        return [tuple(str(value) for value in row) for row in rows]

    def column_types(self, table: str) -> dict[str, str]:
        rows = self.query(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
            [self.schema, table],
        )
        return {name: str(kind).lower() for name, kind in rows}

    def values(self, table: str, column: str) -> list[t.Any]:
        return [row[0] for row in self.query(f"select {quote_identifier(column)} from {self._table(table)}")]

    def _table(self, table: str) -> str:
        return f"{quote_identifier(self.schema)}.{quote_identifier(table)}"


class DuckDBWarehouse(_SQLWarehouse):
    def __init__(self, path: Path) -> None:
        self.path = path

    def query(self, sql: str, parameters: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql, list(parameters)).fetchall()


class PostgresWarehouse(_SQLWarehouse):
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    def query(self, sql: str, parameters: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        import psycopg

        with psycopg.connect(self.conninfo) as connection:
            return connection.execute(sql.replace("?", "%s"), list(parameters)).fetchall()  # type: ignore[arg-type]
