"""`meltano run tap-events target-duckdb` and `... target-postgres` load every stream.

One run per loader against the local emulator; then the database is asked: one table per stream,
exactly the emulator's records (by primary key), no key twice, timestamps typed as timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator import Emulator
from tests.common import parse
from tests.meltano_helpers import (
    DEFAULT_ACCOUNT,
    LOADERS,
    Key,
    emulated_records,
    expected_keys,
    install_plugins,
    meltano,
    meltano_env,
    small_emulator,
    start_date,
    streams_for,
)
from tests.postgres_cluster import PostgresCluster
from tests.warehouses import DuckDBWarehouse, PostgresWarehouse, Warehouse


@dataclass
class Loaded:
    loader: str
    warehouse: Warehouse
    emulator: Emulator
    since: dt.datetime
    expected: dict[str, set[Key]]


def warehouse_for(loader: str, home: Path, request: pytest.FixtureRequest) -> tuple[Warehouse, dict[str, str]]:
    """The warehouse a loader writes to, and the settings that point it there."""
    if loader == "target-duckdb":
        return DuckDBWarehouse(home / "warehouse.duckdb"), {}
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    database = cluster.create_database("warehouse")
    settings = {
        "TARGET_POSTGRES_HOST": "127.0.0.1",
        "TARGET_POSTGRES_PORT": str(cluster.port),
        "TARGET_POSTGRES_USER": cluster.superuser,
        # The throw-away server trusts every local connection: any password will do.
        "TARGET_POSTGRES_PASSWORD": "unused",
        "TARGET_POSTGRES_DATABASE": database,
    }
    return PostgresWarehouse(cluster.conninfo(database)), settings


@pytest.fixture(scope="module", params=LOADERS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    loader = request.param
    install_plugins()
    with ExitStack() as stack:
        emulator = stack.enter_context(small_emulator())
        home = tmp_path_factory.mktemp(loader)
        warehouse, settings = warehouse_for(loader, home, request)
        since = start_date()
        meltano("run", "tap-events", loader, env=meltano_env(emulator, home, since, **settings))
        yield Loaded(loader, warehouse, emulator, since, expected_keys(emulator, since))


def test_one_table_per_stream(loaded):
    assert loaded.warehouse.tables() == set(streams_for(DEFAULT_ACCOUNT))


def test_each_table_holds_exactly_the_emulators_records(loaded):
    for stream, info in streams_for(DEFAULT_ACCOUNT).items():
        expected = loaded.expected[stream]
        assert expected, f"{stream}: the emulator's data set has no record to compare with"
        keys = loaded.warehouse.keys(stream, info.key_properties)
        assert set(keys) == expected, stream
        assert len(keys) == len(expected), stream


def test_primary_keys_are_unique(loaded):
    for stream, info in streams_for(DEFAULT_ACCOUNT).items():
        keys = loaded.warehouse.keys(stream, info.key_properties)
        assert loaded.warehouse.count(stream) == len(set(keys)), stream


def test_date_time_fields_are_timestamp_columns(loaded):
    for stream, info in streams_for(DEFAULT_ACCOUNT).items():
        types = loaded.warehouse.column_types(stream)
        assert info.replication_key is None or info.replication_key in info.timestamp_columns
        loaded_columns = info.timestamp_columns & set(types)
        assert loaded_columns, f"{stream}: no date-time column was loaded"
        wrong = {column: types[column] for column in loaded_columns if not types[column].startswith("timestamp")}
        assert not wrong, f"{stream}: date-time fields not typed as timestamps: {wrong}"


def test_timestamps_hold_the_same_instants_as_the_api(loaded):
    """Read back as UTC, each replication timestamp is the API's (to the second: the tap
    normalises fractions per stream)."""
    for stream, info in streams_for(DEFAULT_ACCOUNT).items():
        column = info.replication_key
        if column is None:
            continue
        records = emulated_records(loaded.emulator, stream, loaded.since)
        expected = {parse(record[column]).replace(microsecond=0) for record in records}
        stored = {parse(value).replace(microsecond=0) for value in loaded.warehouse.values(stream, column)}
        assert stored == expected, stream
