"""The audit trail in SQL, end to end: `meltano run tap-events <loader> dbt-<warehouse>:build`
into DuckDB and into a real PostgreSQL server, twice, with new events in between. Both loaders
upsert on the primary keys (target-postgres 0.8 does so whenever a stream has keys, whatever its
`load_method`), so before the second run the PostgreSQL tables get the copies an append-only loader
keeps — older and newer extractions of a few records — for staging to resolve.

`dbt build` runs every model with its data tests and unit tests (a failure fails the run). Then:
`activity` has one row per loaded event, per stream; the second run adds exactly the new events;
and each starter detection finds exactly what the emulator planted (emulator/audit_scenarios.py)
plus, for credentials, the random API-key events — nothing in the rest of the data set.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.monitor import MonitorAPI
from emulator.telnyx import TelnyxAPI
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, SERVERLESS_LOGS, TASKROUTER_EVENTS, TELNYX_AUDIT_EVENTS, parse
from tests.dbt_helpers import dbt_settings, expected_changes, monitor_changes
from tests.meltano_helpers import (
    LOADERS,
    add_one_record_per_stream,
    api,
    emulated_records,
    install_plugins,
    meltano,
    meltano_env,
    small_emulator,
)
from tests.postgres_cluster import PostgresCluster
from tests.warehouses import DuckDBWarehouse, PostgresWarehouse

#: The event streams `activity` is built from, with their primary key and provider.
EVENT_STREAMS = {
    MONITOR_EVENTS: ("sid", "twilio"),
    MONITOR_ALERTS: ("sid", "twilio"),
    TASKROUTER_EVENTS: ("sid", "twilio"),
    SERVERLESS_LOGS: ("sid", "twilio"),
    TELNYX_AUDIT_EVENTS: ("id", "telnyx"),
}
#: A day and more back: the alert surge needs a day of baseline before it.
HISTORY = dt.timedelta(hours=28)
UTILITY = {"target-duckdb": "dbt-duckdb", "target-postgres": "dbt-postgres"}


@dataclass
class Snapshot:
    loaded: dict[str, set[str]]  # activity keys of the rows each raw table holds
    activity: dict[str, list[str]]  # activity keys per stream
    transformed_at: dict[str, dt.datetime]  # by activity key


@dataclass
class AuditTrail:
    loader: str
    emulator: Emulator
    since: dt.datetime
    warehouse: DuckDBWarehouse | PostgresWarehouse
    first: Snapshot
    added: dict[str, str]
    second: Snapshot


def snapshot(warehouse: DuckDBWarehouse | PostgresWarehouse) -> Snapshot:
    loaded = {
        stream: {f"{provider}:{key}" for (key,) in warehouse.keys(stream, [column])}
        for stream, (column, provider) in EVENT_STREAMS.items()
    }
    activity: dict[str, list[str]] = {stream: [] for stream in EVENT_STREAMS}
    transformed_at = {}
    for stream, key, when in warehouse.query("select stream, activity_key, transformed_at from analytics.activity"):
        activity[stream].append(key)
        transformed_at[key] = when
    return Snapshot(loaded, activity, transformed_at)


@pytest.fixture(scope="module", params=LOADERS)
def trail(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditTrail]:
    loader = request.param
    install_plugins()
    home: Path = tmp_path_factory.mktemp(f"dbt-{loader}")
    with ExitStack() as stack:
        emulator = stack.enter_context(small_emulator(audit_scenarios=True))
        since = (dt.datetime.now(dt.UTC) - HISTORY).replace(microsecond=0)
        warehouse: DuckDBWarehouse | PostgresWarehouse
        if loader == "target-duckdb":
            warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
            env = meltano_env(emulator, home, since, **dbt_settings(home))
        else:
            cluster: PostgresCluster = request.getfixturevalue("postgres")
            database = cluster.create_database("audit_trail")
            warehouse = PostgresWarehouse(cluster.conninfo(database))
            connection = {"HOST": "127.0.0.1", "PORT": str(cluster.port), "USER": cluster.superuser}
            env = meltano_env(
                emulator,
                home,
                since,
                **dbt_settings(home),
                **{f"TARGET_POSTGRES_{name}": value for name, value in connection.items()},
                TARGET_POSTGRES_PASSWORD="unused",  # the throw-away server trusts local connections
                TARGET_POSTGRES_DATABASE=database,
                **{f"DBT_POSTGRES_{name}": value for name, value in connection.items()},
                DBT_POSTGRES_PASSWORD="unused",
                DBT_POSTGRES_DBNAME=database,
            )
        pipeline = ("run", "tap-events", loader, f"{UTILITY[loader]}:build")
        meltano(*pipeline, env=env, timeout=600)
        first = snapshot(warehouse)
        if isinstance(warehouse, PostgresWarehouse):
            append_copies(warehouse)
        added = add_one_record_per_stream(emulator, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2))
        meltano(*pipeline, env=env, timeout=600)
        second = snapshot(warehouse)
        new = {stream: f"{EVENT_STREAMS[stream][1]}:{added[stream][0]}" for stream in EVENT_STREAMS if stream in added}
        yield AuditTrail(loader, emulator, since, warehouse, first, new, second)


def append_copies(warehouse: PostgresWarehouse) -> None:
    """Per event stream, a day-older copy of 3 records and an hour-newer copy of 3 others (without
    the primary key target-postgres made: an append-only loader's table has none)."""
    import psycopg

    with psycopg.connect(warehouse.conninfo) as connection:
        for stream, (column, _) in EVENT_STREAMS.items():
            table = f"tap_events.{stream}"
            connection.execute(f"alter table {table} drop constraint {stream}_pkey")  # type: ignore[arg-type]
            for offset, order in (("- interval '1 day'", "asc"), ("+ interval '1 hour'", "desc")):
                connection.execute(
                    f"create temporary table copies as select * from {table} "  # type: ignore[arg-type]
                    f"order by {column} {order} limit 3"
                )
                connection.execute(f"update copies set _sdc_batched_at = _sdc_batched_at {offset}")  # type: ignore[arg-type]
                connection.execute(f"insert into {table} select * from copies")  # type: ignore[arg-type]
                connection.execute("drop table copies")


def findings(trail: AuditTrail, detection: str, *columns: str) -> set[tuple]:
    rows = trail.warehouse.query(f"select {', '.join(columns)} from analytics.{detection}")
    return {tuple(row) for row in rows}


def test_activity_has_one_row_per_loaded_event_per_stream(trail):
    for run in (trail.first, trail.second):
        for stream, keys in run.activity.items():
            assert run.loaded[stream], stream
            assert len(keys) == len(set(keys)) == len(run.loaded[stream]), stream
            assert set(keys) == run.loaded[stream], stream


def test_a_second_run_adds_exactly_the_new_events(trail):
    assert set(trail.added) == set(EVENT_STREAMS)
    for stream in EVENT_STREAMS:
        before, after = set(trail.first.activity[stream]), set(trail.second.activity[stream])
        assert after - before == {trail.added[stream]}, stream
        assert before <= after, stream


def test_the_second_run_leaves_the_first_runs_rows_alone(trail):
    """`activity` is incremental: the second dbt run inserts the new rows and rewrites no other."""
    first_run = set(trail.first.transformed_at.values())
    assert len(first_run) == 1
    for key, when in trail.second.transformed_at.items():
        if key in trail.first.transformed_at:
            assert when == trail.first.transformed_at[key], key
        else:
            assert when not in first_run, key


def test_staging_keeps_one_row_per_key_the_newest_extraction(trail):
    for stream, (column, _) in EVENT_STREAMS.items():
        raw = trail.warehouse.keys(stream, [column])
        staged = trail.warehouse.query(f"select {column}, loaded_at from analytics.stg_{stream}")
        assert len(staged) == len({key for key, _ in staged}) == len(set(raw)), stream
        if trail.loader == "target-duckdb":  # upserts: one row per key, no `_sdc_` columns
            assert len(raw) == len(set(raw)), stream
            assert {loaded for _, loaded in staged} == {None}, stream
        else:  # with the copies an append-only loader keeps
            assert len(raw) == len(set(raw)) + 6, stream
            newest = dict(
                trail.warehouse.query(f"select {column}, max(_sdc_batched_at) from tap_events.{stream} group by 1")
            )
            assert dict(staged) == newest, stream


def test_monitor_changes_come_from_resource_properties(trail):
    events = emulated_records(trail.emulator, MONITOR_EVENTS, trail.since)
    assert any(expected_changes(event) for event in events)
    assert monitor_changes(trail.warehouse) == {event["sid"]: expected_changes(event) for event in events}


def test_credential_changes_are_found(trail):
    monitor = [
        f"twilio:{event['sid']}"
        for event in emulated_records(trail.emulator, MONITOR_EVENTS, trail.since)
        if event["resource_type"] in ("account-api-keys", "account-auth-token")
    ]
    telnyx = [
        f"telnyx:{event['id']}"
        for event in emulated_records(trail.emulator, TELNYX_AUDIT_EVENTS, trail.since)
        if any(re.match(r"api_key[.]", change["field"]) for change in event["changes"] or [])
    ]
    planted = api(trail.emulator, MonitorAPI).planted.credential_changes
    planted_telnyx = api(trail.emulator, TelnyxAPI).planted.credential_changes
    assert (len(planted), len(planted_telnyx)) == (3, 2)
    assert {f"twilio:{sid}" for sid in planted} <= set(monitor)
    assert {f"telnyx:{event_id}" for event_id in planted_telnyx} <= set(telnyx)
    assert findings(trail, "detect_credential_changes", "finding_key") == {(key,) for key in monitor + telnyx}


def test_a_console_login_from_a_new_ip_is_found(trail):
    planted = api(trail.emulator, MonitorAPI).planted.new_login_ips
    assert len(planted) == 1
    assert findings(trail, "detect_new_login_ip", "finding_key") == {(f"twilio:{sid}",) for sid in planted}


def test_an_alert_surge_is_found(trail):
    found = {
        (account, code, parse(hour))
        for account, code, hour in findings(trail, "detect_alert_surges", "account_id", "error_code", "hour_start")
    }
    planted = api(trail.emulator, MonitorAPI).planted.alert_surges
    assert len(planted) == 1
    assert found == planted


def test_bulk_deletions_are_found(trail):
    planted = api(trail.emulator, MonitorAPI).planted.bulk_deletions
    assert len(planted) == 2
    assert findings(trail, "detect_bulk_deletions", "finding_key") == {(f"twilio:{sid}",) for sid in planted}


def readme_queries() -> list[str]:
    """The SQL examples of the README's "The audit trail in SQL" section."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## The audit trail in SQL", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def test_the_readme_example_queries_run(trail):
    queries = readme_queries()
    assert len(queries) == 3
    for query in queries:
        trail.warehouse.query(query.strip().rstrip(";"))
