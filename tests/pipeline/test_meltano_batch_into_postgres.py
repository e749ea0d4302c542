"""`meltano run tap-events target-postgres` with `batch_config` (JSONL, gzip, a local folder): the
MeltanoLabs target reads the BATCH messages and loads every row."""

from __future__ import annotations

import json
from pathlib import Path

from tests.batch_helpers import batch_config
from tests.meltano_helpers import (
    DEFAULT_ACCOUNT,
    expected_keys,
    install_plugins,
    meltano,
    meltano_env,
    small_emulator,
    start_date,
    streams_for,
)
from tests.postgres_cluster import PostgresCluster, require_postgres
from tests.warehouses import PostgresWarehouse


def test_a_batch_run_loads_every_row_into_postgres(tmp_path: Path) -> None:
    install_plugins()
    batches = tmp_path / "batches"
    batches.mkdir()
    with small_emulator() as emulator, PostgresCluster(require_postgres()) as cluster:
        database = cluster.create_database("warehouse")
        since = start_date()
        env = meltano_env(
            emulator,
            tmp_path,
            since,
            TAP_EVENTS_BATCH_CONFIG=json.dumps(batch_config(batches, batch_size=25)),
            TARGET_POSTGRES_HOST="127.0.0.1",
            TARGET_POSTGRES_PORT=str(cluster.port),
            TARGET_POSTGRES_USER=cluster.superuser,
            TARGET_POSTGRES_PASSWORD="unused",  # the throw-away server trusts local connections
            TARGET_POSTGRES_DATABASE=database,
        )

        meltano("run", "tap-events", "target-postgres", env=env)

        warehouse = PostgresWarehouse(cluster.conninfo(database))
        expected = expected_keys(emulator, since)
        for stream, info in streams_for(DEFAULT_ACCOUNT).items():
            keys = warehouse.keys(stream, info.key_properties)
            assert expected[stream], f"{stream}: the emulator's data set has no record to compare with"
            assert set(keys) == expected[stream], stream
            assert len(keys) == len(expected[stream]), stream
    assert len(list(batches.glob("batch-*.json.gz"))) >= len(expected), "the rows came in batch files"
