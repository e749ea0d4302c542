"""Twilio alone: without a Telnyx key the tap skips Telnyx and the loader never makes its table; the
audit trail still builds (every model, data test and unit test), with no Telnyx rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.dbt_helpers import dbt_settings
from tests.meltano_helpers import DuckDBWarehouse, install_plugins, meltano, meltano_env, small_emulator, start_date


def test_the_audit_trail_builds_without_the_telnyx_table(tmp_path: Path):
    install_plugins()
    with small_emulator() as emulator:
        env = meltano_env(
            emulator,
            tmp_path,
            start_date(dt.datetime.now(dt.UTC)),
            TAP_EVENTS_TELNYX_API_KEY="",
            **dbt_settings(tmp_path),
        )
        meltano("run", "tap-events", "target-duckdb", "dbt-duckdb:build", env=env, timeout=600)

    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    assert "telnyx_audit_events" not in warehouse.tables()
    providers = dict(warehouse.query("select provider, count(*) from analytics.activity group by 1"))
    assert set(providers) == {"twilio"}
    assert providers["twilio"] > 0
    assert warehouse.query("select count(*) from analytics.stg_telnyx_audit_events") == [(0,)]
