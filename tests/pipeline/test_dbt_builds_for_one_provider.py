"""One provider alone: the tap skips the other, the loader never makes its tables, and the audit
trail still builds (every model, data test and unit test), with only that provider's rows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from emulator.telnyx import TelnyxAPI
from tests.common import MONITOR_EVENTS, TELNYX_AUDIT_EVENTS
from tests.dbt_helpers import dbt_settings, expected_changes, monitor_changes
from tests.meltano_helpers import (
    api,
    emulated_records,
    install_plugins,
    meltano,
    meltano_env,
    small_emulator,
    start_date,
)
from tests.warehouses import DuckDBWarehouse


def test_twilio_alone_builds_without_the_telnyx_table(tmp_path: Path):
    """... with Monitor's changed properties at the top of `event_data`, as in Twilio's example."""
    install_plugins()
    with small_emulator(monitor_event_data_flat=True, audit_scenarios=True) as emulator:
        since = start_date(dt.datetime.now(dt.UTC))
        env = meltano_env(emulator, tmp_path, since, TAP_EVENTS_TELNYX_API_KEY="", **dbt_settings(tmp_path))
        meltano("run", "tap-events", "target-duckdb", "dbt-duckdb:build", env=env, timeout=600)
        events = emulated_records(emulator, MONITOR_EVENTS, since)

    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    assert TELNYX_AUDIT_EVENTS not in warehouse.tables()
    providers = dict(warehouse.query("select provider, count(*) from analytics.activity group by 1"))
    assert set(providers) == {"twilio"}
    assert providers["twilio"] > 0
    assert warehouse.query("select count(*) from analytics.stg_telnyx_audit_events") == [(0,)]
    assert all("resource_properties" not in event["event_data"] for event in events)
    assert any(expected_changes(event) for event in events)
    assert monitor_changes(warehouse) == {event["sid"]: expected_changes(event) for event in events}


def test_telnyx_alone_where_record_type_names_the_resource(tmp_path: Path):
    """The other reading of Telnyx's `record_type`: it names the resource (`api_key`, ...), which
    becomes `activity.resource_type` and marks credential changes."""
    install_plugins()
    with small_emulator(telnyx_record_type_names_resource=True, audit_scenarios=True) as emulator:
        since = start_date(dt.datetime.now(dt.UTC))
        env = meltano_env(
            emulator,
            tmp_path,
            since,
            TAP_EVENTS_TWILIO_ACCOUNT_SID="",
            TAP_EVENTS_TWILIO_AUTH_TOKEN="",
            **dbt_settings(tmp_path),
        )
        meltano("run", "tap-events", "target-duckdb", "dbt-duckdb:build", env=env, timeout=600)
        events = emulated_records(emulator, TELNYX_AUDIT_EVENTS, since)
        planted = api(emulator, TelnyxAPI).planted.credential_changes

    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    assert not {table for table in warehouse.tables() if table.startswith("twilio_")}
    resource_types = dict(warehouse.query("select source_record_id, resource_type from analytics.activity"))
    assert resource_types == {event["id"]: event["record_type"] for event in events}
    credentials = {
        f"telnyx:{event['id']}"
        for event in events
        if event["record_type"] == "api_key"
        or any(re.match(r"api_key[.]", change["field"]) for change in event["changes"] or [])
    }
    assert {f"telnyx:{event_id}" for event_id in planted} < credentials
    found = {key for (key,) in warehouse.query("select finding_key from analytics.detect_credential_changes")}
    assert found == credentials
