"""A second `meltano run` after the emulator has new records: they appear, nothing is lost, no
row is doubled, and the run starts from the bookmarks Meltano kept in its state backend.

The DuckDB pipeline keeps its state in Meltano's default system database (SQLite); the
PostgreSQL pipeline keeps it in a PostgreSQL system database, the backend to share between
machines (docs/orchestration.md).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
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
    MeltanoRun,
    add_one_record_per_stream,
    bookmark,
    emulated_records,
    expected_keys,
    install_plugins,
    meltano,
    meltano_env,
    meltano_state,
    small_emulator,
    start_date,
    streams_for,
)
from tests.postgres_cluster import PostgresCluster
from tests.warehouses import DuckDBWarehouse, PostgresWarehouse, Warehouse


@dataclass
class Snapshot:
    """What one run left behind."""

    run: MeltanoRun
    keys: dict[str, list[Key]]
    counts: dict[str, int]
    state: dict


@dataclass
class Reruns:
    loader: str
    state_id: str
    emulator: Emulator
    since: dt.datetime
    first: Snapshot
    added: dict[str, Key]
    second: Snapshot
    state_rows: list[str]


def snapshot(run: MeltanoRun, warehouse: Warehouse, state_id: str, env: dict[str, str]) -> Snapshot:
    chosen = streams_for(DEFAULT_ACCOUNT)
    return Snapshot(
        run=run,
        keys={name: warehouse.keys(name, info.key_properties) for name, info in chosen.items()},
        counts={name: warehouse.count(name) for name in chosen},
        state=meltano_state(state_id, env),
    )


@pytest.fixture(scope="module", params=LOADERS)
def reruns(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reruns]:
    loader = request.param
    install_plugins()
    home: Path = tmp_path_factory.mktemp(loader)
    with ExitStack() as stack:
        emulator = stack.enter_context(small_emulator())
        since = start_date()
        if loader == "target-duckdb":
            warehouse: Warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
            env = meltano_env(emulator, home, since)

            def state_rows() -> list[str]:
                with sqlite3.connect(home / "meltano.db") as connection:
                    return [row[0] for row in connection.execute("select state_id from state")]
        else:
            cluster: PostgresCluster = request.getfixturevalue("postgres")
            database = cluster.create_database("warehouse")
            state_database = cluster.create_database("meltano")
            warehouse = PostgresWarehouse(cluster.conninfo(database))
            env = meltano_env(
                emulator,
                home,
                since,
                database_uri=cluster.url(state_database),
                TARGET_POSTGRES_HOST="127.0.0.1",
                TARGET_POSTGRES_PORT=str(cluster.port),
                TARGET_POSTGRES_USER=cluster.superuser,
                TARGET_POSTGRES_PASSWORD="unused",  # the throw-away server trusts local connections
                TARGET_POSTGRES_DATABASE=database,
            )

            def state_rows() -> list[str]:
                state_store = PostgresWarehouse(cluster.conninfo(state_database))
                return [row[0] for row in state_store.query("select state_id from state")]

        state_id = f"emulator:tap-events-to-{loader}"
        first_run = meltano("--log-format=json", "run", "tap-events", loader, env=env)
        first = snapshot(first_run, warehouse, state_id, env)
        added = add_one_record_per_stream(emulator, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2))
        second_run = meltano("--log-format=json", "run", "tap-events", loader, env=env)
        second = snapshot(second_run, warehouse, state_id, env)
        yield Reruns(loader, state_id, emulator, since, first, added, second, state_rows())


def test_every_stream_that_can_grow_got_a_new_record(reruns):
    incremental = {name for name, info in streams_for(DEFAULT_ACCOUNT).items() if info.replication_key}
    assert incremental <= set(reruns.added)


def test_second_run_loads_the_new_records(reruns):
    for stream, key in reruns.added.items():
        assert key not in reruns.first.keys[stream], stream
        assert key in reruns.second.keys[stream], stream


def test_second_run_loses_nothing(reruns):
    expected = expected_keys(reruns.emulator, reruns.since)
    for stream, keys in reruns.second.keys.items():
        assert set(reruns.first.keys[stream]) <= set(keys), stream
        assert set(keys) == expected[stream], stream


def test_second_run_doubles_no_row(reruns):
    for stream, keys in reruns.second.keys.items():
        assert reruns.second.counts[stream] == len(set(keys)) == len(keys), stream


def test_meltano_kept_a_bookmark_per_incremental_stream(reruns):
    for stream, info in streams_for(DEFAULT_ACCOUNT).items():
        if not info.replication_key:
            continue
        newest = max(
            parse(record[info.replication_key]) for record in emulated_records(reruns.emulator, stream, reruns.since)
        )
        first, second = bookmark(reruns.first.state, stream), bookmark(reruns.second.state, stream)
        assert first is not None, stream
        assert second is not None, stream
        assert first < second, stream
        # The newest record is the one added between the runs: the bookmark is at it (to the second).
        assert second.replace(microsecond=0) == newest.replace(microsecond=0), stream


def test_second_run_reads_from_the_bookmarks_not_from_start_date(reruns):
    """The tap re-reads only its lookback window (10 minutes) and what is new."""
    first, second = reruns.first.run.record_counts, reruns.second.run.record_counts
    for stream, info in streams_for(DEFAULT_ACCOUNT).items():
        if not info.replication_key:
            continue
        assert first[stream] == reruns.first.counts[stream], stream
        assert 1 <= second[stream] < first[stream] / 2, stream


def test_state_lives_in_the_system_database(reruns):
    assert reruns.state_rows == [reruns.state_id]
