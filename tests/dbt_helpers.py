"""What the dbt tests share."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from tests.postgres_cluster import PostgresCluster
    from tests.warehouses import Warehouse


def dbt_settings(home: Path) -> dict[str, str]:
    """Environment of the dbt utilities for a run in `home`: dbt's artefacts and logs stay there (not
    in transform/), and dbt-duckdb opens the warehouse file target-duckdb loads."""
    return {
        "DBT_TARGET_PATH": str(home / "dbt-target"),
        "DBT_LOG_PATH": str(home / "dbt-logs"),
        "DBT_DUCKDB_PATH": str(home / "warehouse.duckdb"),
    }


def expected_changes(event: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """`activity.changes` of a Monitor event: its changed properties (under
    `event_data.resource_properties`, or at the top of `event_data`) as `[{field, from, to}]`."""
    data = event.get("event_data") or {}
    nested = data.get("resource_properties")
    properties: dict[str, t.Any] = nested if isinstance(nested, dict) else data
    return [
        {"field": name, "from": value.get("previous"), "to": value.get("updated")}
        for name, value in sorted(properties.items())
        if isinstance(value, dict) and ("previous" in value or "updated" in value)
    ]


def monitor_changes(warehouse: Warehouse) -> dict[str, t.Any]:
    """`activity.changes` of every Monitor event, parsed, by sid (DuckDB answers JSON as text)."""
    rows = warehouse.query(
        "select source_record_id, changes from analytics.activity where stream = 'twilio_monitor_events'"
    )
    return {sid: json.loads(changes) if isinstance(changes, str) else changes for sid, changes in rows}


def postgres_settings(cluster: PostgresCluster, database: str) -> dict[str, str]:
    """Environment of target-postgres and the dbt-postgres utility for `database` on a throw-away
    server (which trusts local connections: the password is not checked)."""
    connection = {"HOST": "127.0.0.1", "PORT": str(cluster.port), "USER": cluster.superuser}
    return {
        **{f"TARGET_POSTGRES_{name}": value for name, value in connection.items()},
        "TARGET_POSTGRES_PASSWORD": "unused",
        "TARGET_POSTGRES_DATABASE": database,
        **{f"DBT_POSTGRES_{name}": value for name, value in connection.items()},
        "DBT_POSTGRES_PASSWORD": "unused",
        "DBT_POSTGRES_DBNAME": database,
    }
