"""What the dbt tests share."""

from __future__ import annotations

from pathlib import Path


def dbt_settings(home: Path) -> dict[str, str]:
    """Environment of the dbt utilities for a run in `home`: dbt's artefacts and logs stay there (not
    in transform/), and dbt-duckdb opens the warehouse file target-duckdb loads."""
    return {
        "DBT_TARGET_PATH": str(home / "dbt-target"),
        "DBT_LOG_PATH": str(home / "dbt-logs"),
        "DBT_DUCKDB_PATH": str(home / "warehouse.duckdb"),
    }
