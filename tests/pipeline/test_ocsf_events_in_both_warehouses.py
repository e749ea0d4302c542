"""OCSF events end to end, in DuckDB and in a real PostgreSQL server: `meltano run tap-events
<loader> dbt-<warehouse>:build` builds transform/models/ocsf, `scripts.export_ocsf` exports them;
then one new record per stream, a second run and export, and a third export with nothing new.

Every OCSF row validates against OCSF 1.1.0 with the profiles it declares (the `ocsf-json-schema`
package's schema and `jsonschema`, nulls dropped, plus type_uid = class_uid * 100 + activity_id);
each Monitor, TaskRouter and Telnyx event is exactly one OCSF event, of the class README "Into a
SIEM" gives it, with nothing its source said dropped; each detection finding is a Detection
Finding; the two exports hold exactly the model's events, Security Lake's in its layout.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emulator import Emulator
from emulator.monitor import MonitorAPI
from emulator.telnyx import TelnyxAPI
from scripts.export_ocsf import ClassExport, export
from scripts.ocsf_schema import CLASSES, OCSF_VERSION, drop_nulls, problems
from tests.common import MONITOR_EVENTS, TASKROUTER_EVENTS, TELNYX_AUDIT_EVENTS, parse
from tests.dbt_helpers import dbt_settings, postgres_settings
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

UTILITY = {"target-duckdb": "dbt-duckdb", "target-postgres": "dbt-postgres"}
#: The streams whose every event is an OCSF event (alerts and function logs have no OCSF 1.1 class).
OCSF_STREAMS = {MONITOR_EVENTS: "sid", TASKROUTER_EVENTS: "sid", TELNYX_AUDIT_EVENTS: "id"}
REGION = "eu-west-1"
DETECTIONS = ("detect_credential_changes", "detect_new_login_ip", "detect_alert_surges", "detect_bulk_deletions")
Events = dict[str, list[dict[str, t.Any]]]  # by class name


@dataclass
class Run:
    events: Events  # the models' events, nulls dropped
    exported: list[ClassExport]
    files: dict[Path, int]  # every exported file and its size
    loaded: list[str]  # the keys of the OCSF streams' records in the warehouse


@dataclass
class Pipeline:
    loader: str
    emulator: Emulator
    since: dt.datetime
    warehouse: DuckDBWarehouse | PostgresWarehouse
    output: Path
    first: Run
    added: dict[str, str]  # the source key of the new record, per OCSF stream
    second: Run
    third: Run


def model_events(warehouse: DuckDBWarehouse | PostgresWarehouse) -> Events:
    found = {}
    for each in CLASSES:
        rows = warehouse.query(f"select event from analytics.{each.model}")
        found[each.name] = [drop_nulls(json.loads(doc) if isinstance(doc, str) else doc) for (doc,) in rows]
    return found


def exported_files(output: Path) -> dict[Path, int]:
    return {
        path: path.stat().st_size
        for folder in ("ocsf", "security-lake")
        for path in (output / folder).rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module", params=LOADERS)
def pipeline(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    loader = request.param
    install_plugins()
    home: Path = tmp_path_factory.mktemp(f"ocsf-{loader}")
    output = home / "output"
    with ExitStack() as stack:
        emulator = stack.enter_context(small_emulator(audit_scenarios=True))
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=28)).replace(microsecond=0)
        warehouse: DuckDBWarehouse | PostgresWarehouse
        source: dict[str, t.Any]
        if loader == "target-duckdb":
            warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
            env = meltano_env(emulator, home, since, **dbt_settings(home))
            source = {"duckdb_path": warehouse.path}
        else:
            cluster: PostgresCluster = request.getfixturevalue("postgres")
            database = cluster.create_database("ocsf")
            warehouse = PostgresWarehouse(cluster.conninfo(database))
            env = meltano_env(emulator, home, since, **dbt_settings(home), **postgres_settings(cluster, database))
            source = {"postgres": warehouse.conninfo}

        def run_and_export() -> Run:
            exported = export(
                **source,
                jsonl_dir=output / "ocsf",
                security_lake_dir=output / "security-lake",
                ledger_dir=output / "ocsf-export-ledger",
                region=REGION,
            )
            loaded = [key for stream, column in OCSF_STREAMS.items() for (key,) in warehouse.keys(stream, [column])]
            return Run(model_events(warehouse), exported, exported_files(output), loaded)

        pipeline = ("run", "tap-events", loader, f"{UTILITY[loader]}:build")
        meltano(*pipeline, env=env, timeout=600)
        first = run_and_export()
        added = add_one_record_per_stream(emulator, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2))
        meltano(*pipeline, env=env, timeout=600)
        second = run_and_export()
        third = run_and_export()
        new = {stream: added[stream][0] for stream in OCSF_STREAMS}
        yield Pipeline(loader, emulator, since, warehouse, output, first, new, second, third)


def uids(events: list[dict[str, t.Any]]) -> list[str]:
    return [event["metadata"]["uid"] for event in events]


def activity_uids(run: Run) -> list[str]:
    return [uid for name in ("api_activity", "authentication", "account_change") for uid in uids(run.events[name])]


def ms(timestamp: str) -> int:
    return round(parse(timestamp).timestamp() * 1000)


# ---- the models ---------------------------------------------------------------------------------


def test_every_ocsf_row_validates_against_the_pinned_schema(pipeline):
    for name, events in pipeline.second.events.items():
        assert events, name
        for event in events:
            assert event["metadata"]["version"] == OCSF_VERSION
            assert problems(event) == [], (name, event["metadata"]["uid"])


def test_each_source_event_is_exactly_one_ocsf_event(pipeline):
    for run in (pipeline.first, pipeline.second):
        assert sorted(activity_uids(run)) == sorted(run.loaded)


def test_a_second_run_adds_exactly_the_new_events(pipeline):
    before, after = set(activity_uids(pipeline.first)), set(activity_uids(pipeline.second))
    assert before <= after
    assert after - before == set(pipeline.added.values())


def test_credential_changes_are_account_changes_and_logins_authentications(pipeline):
    events = pipeline.second.events
    account_changes, logins = set(uids(events["account_change"])), set(uids(events["authentication"]))
    planted_twilio = api(pipeline.emulator, MonitorAPI).planted
    planted_telnyx = api(pipeline.emulator, TelnyxAPI).planted
    assert planted_twilio.credential_changes | planted_telnyx.credential_changes <= account_changes
    assert planted_twilio.new_login_ips <= logins
    monitor = emulated_records(pipeline.emulator, MONITOR_EVENTS, pipeline.since)
    assert logins == {
        event["sid"] for event in monitor if event["event_type"] == "user-session.created" and event["actor_sid"]
    }
    by_uid = {event["metadata"]["uid"]: event for event in events["account_change"]}
    twilio = [by_uid[sid] for sid in planted_twilio.credential_changes]
    assert sorted(event["activity_name"] for event in twilio) == ["Create", "Delete", "Password Change"]
    assert {event["user"]["uid"][:2] for event in twilio} == {"SK", "AC"}


def test_each_finding_is_a_detection_finding(pipeline):
    findings = pipeline.second.events["detection_finding"]
    expected = sorted(
        (key, detection)
        for detection in DETECTIONS
        for (key,) in pipeline.warehouse.query(f"select finding_key from analytics.{detection}")
    )
    assert (
        sorted((event["metadata"]["uid"], event["finding_info"]["analytic"]["name"]) for event in findings) == expected
    )


def test_nothing_a_monitor_event_said_is_dropped(pipeline):
    events = {
        e["metadata"]["uid"]: e
        for name in ("api_activity", "authentication", "account_change")
        for e in pipeline.second.events[name]
    }
    for record in emulated_records(pipeline.emulator, MONITOR_EVENTS, pipeline.since):
        event = events[record["sid"]]
        assert event["time"] == ms(record["event_date"])
        assert event["cloud"] == {"provider": "Twilio", "account": {"uid": record["account_sid"]}}
        if record["actor_sid"] is None:  # Twilio itself: what acted
            assert event["actor"] == {"invoked_by": record["actor_type"]}
        else:
            assert event["actor"]["user"] == drop_nulls({"uid": record["actor_sid"], "type": record["actor_type"]})
        assert event["src_endpoint"].get("ip") == record["source_ip_address"]
        assert event["metadata"]["event_code"] == record["event_type"]
        unmapped = event["unmapped"]
        assert (unmapped.get("source"), unmapped.get("url")) == (record["source"], record["url"])
        assert unmapped["event_data"] == drop_nulls(record["event_data"])
        assert unmapped["links"] == drop_nulls(record["links"])
        if record["description"] is not None:
            assert event["message"] == record["description"]
        if event["class_uid"] == 6003:
            assert event["resources"][0]["uid"] == record["resource_sid"]
            assert event["resources"][0]["type"] == record["resource_type"]


def test_nothing_a_telnyx_event_said_is_dropped(pipeline):
    events = {
        e["metadata"]["uid"]: e for name in ("api_activity", "account_change") for e in pipeline.second.events[name]
    }
    for record in emulated_records(pipeline.emulator, TELNYX_AUDIT_EVENTS, pipeline.since):
        event = events[record["id"]]
        assert event["time"] == ms(record["created_at"])
        assert event["cloud"] == {"provider": "Telnyx", "account": {"uid": record["organization_id"]}}
        assert event["api"]["operation"] == record["change_type"]
        if record["user_id"] is not None:
            assert event["actor"]["user"]["uid"] == record["user_id"]
        assert event["unmapped"]["change_made_by"] == record["change_made_by"]
        assert event["unmapped"]["record_type"] == record["record_type"]
        changes = drop_nulls(record["changes"] or [])
        if event["class_uid"] == 6003:
            resource = event["resources"][0]
            assert (resource["uid"], resource.get("name")) == (record["resource_id"], record["alternate_resource_id"])
            assert resource["data"]["changes"] == changes
        else:
            assert event["unmapped"]["changes"] == changes


#: The source fields that are the event's `time`.
TIME_FIELDS = {"event_date", "created_at"}


def nodes(value: t.Any) -> Iterator[t.Any]:
    """Every value in a JSON document, its members and theirs."""
    yield value
    members = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for member in members:
        yield from nodes(member)


def loaded_records(warehouse: DuckDBWarehouse | PostgresWarehouse, stream: str) -> list[dict[str, t.Any]]:
    """The rows the loader wrote for `stream` (what the tap said), JSON columns parsed, without the
    loader's own `_sdc_` columns."""
    types = warehouse.column_types(stream)
    columns = [column for column in types if not column.startswith("_sdc_")]
    listed = ", ".join(f'"{column}"' for column in columns)
    records = []
    for row in warehouse.query(f'select {listed} from tap_events."{stream}"'):
        record = dict(zip(columns, row, strict=True))
        for column in columns:
            if types[column] in ("json", "jsonb") and isinstance(record[column], str):
                record[column] = json.loads(record[column])
        records.append(record)
    return records


@pytest.mark.parametrize("stream", OCSF_STREAMS)
def test_every_field_the_source_gave_is_in_its_event(pipeline, stream):
    """Generic: each non-null field of each loaded record is somewhere in its OCSF event."""
    events = {
        e["metadata"]["uid"]: e
        for name in ("api_activity", "authentication", "account_change")
        for e in pipeline.second.events[name]
    }
    records = loaded_records(pipeline.warehouse, stream)
    assert len(records) == len({record[OCSF_STREAMS[stream]] for record in records})
    for record in records:
        event = events[record[OCSF_STREAMS[stream]]]
        held = [json.dumps(node, sort_keys=True) for node in nodes(event)]
        for field, value in record.items():
            if value is None:
                continue
            if field in TIME_FIELDS:
                when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # naive timestamps are UTC
                assert event["time"] == round(when.timestamp() * 1000), (stream, field)
            else:
                assert json.dumps(drop_nulls(value), sort_keys=True) in held, (stream, field, value)


# ---- the export ---------------------------------------------------------------------------------


def jsonl_events(output: Path, name: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in (output / "ocsf" / f"{name}.jsonl").read_text().splitlines()]


def parquet_files(output: Path) -> list[Path]:
    return sorted((output / "security-lake").rglob("*.parquet"))


def test_the_jsonl_export_holds_each_event_of_its_class_once(pipeline):
    for each in CLASSES:
        assert sorted(uids(jsonl_events(pipeline.output, each.name))) == sorted(uids(pipeline.second.events[each.name]))


def test_the_security_lake_export_is_in_its_layout(pipeline):
    sources = {each.source: each for each in CLASSES}
    files = parquet_files(pipeline.output)
    assert files
    for path in files:
        ext, source, region, account, day = path.relative_to(pipeline.output / "security-lake").parts[:-1]
        assert (ext, region) == ("ext", f"region={REGION}")
        ocsf_class = sources[source]
        table = pq.read_table(path)
        rows = table.to_pylist()
        assert rows
        assert {row["class_uid"] for row in rows} == {ocsf_class.uid}  # one class per source
        assert {f"accountId={row['cloud']['account']['uid']}" for row in rows} == {account}
        days = {dt.datetime.fromtimestamp(row["time"] / 1000, dt.UTC).strftime("eventDay=%Y%m%d") for row in rows}
        assert days == {day}
        assert [row["time"] for row in rows] == sorted(row["time"] for row in rows)
        metadata = pq.ParquetFile(path).metadata
        assert {metadata.row_group(0).column(n).compression for n in range(metadata.num_columns)} == {"ZSTD"}


def test_the_security_lake_export_has_ocsf_types(pipeline):
    for path in parquet_files(pipeline.output):
        schema = pq.read_schema(path)
        assert schema.field("type_uid").type == pa.int64()
        assert schema.field("time").type == pa.int64()  # timestamp_t is a long_t
        assert schema.field("class_uid").type == pa.int32()
        assert schema.field("metadata").type.field("processed_time").type == pa.int64()
        assert schema.field("unmapped").type == pa.map_(pa.string(), pa.string())


def test_the_files_of_one_export_share_their_source_schema(pipeline):
    schemas: dict[str, set[str]] = {}
    for path in pipeline.first.files:
        if path.suffix == ".parquet":
            source = path.relative_to(pipeline.output / "security-lake").parts[1]
            schemas.setdefault(source, set()).add(pq.read_schema(path).to_string())
    assert len(schemas) == len(CLASSES)
    assert all(len(found) == 1 for found in schemas.values()), schemas


def test_the_security_lake_export_reads_back_as_the_events(pipeline):
    read: dict[str, dict[str, t.Any]] = {}
    for path in parquet_files(pipeline.output):
        for row in pq.read_table(path).to_pylist():
            assert row["metadata"]["uid"] not in read
            read[row["metadata"]["uid"]] = row
    expected = {event["metadata"]["uid"]: event for events in pipeline.second.events.values() for event in events}
    assert set(read) == set(expected)
    for uid, event in expected.items():
        row = drop_nulls(read[uid])
        unmapped = dict(row.pop("unmapped", []))
        assert unmapped.keys() == event.get("unmapped", {}).keys()
        for key, value in event.get("unmapped", {}).items():
            assert unmapped[key] == (value if isinstance(value, str) else json.dumps(value))
        assert {key: value for key, value in event.items() if key not in ("unmapped", "resources")} == {
            key: value for key, value in row.items() if key != "resources"
        }


def test_a_rerun_exports_only_what_is_new(pipeline):
    first = {each.ocsf_class.name: each for each in pipeline.first.exported}
    second = {each.ocsf_class.name: each for each in pipeline.second.exported}
    for name, done in second.items():
        grown = len(pipeline.second.events[name]) - len(pipeline.first.events[name])
        assert (done.new_jsonl, done.new_parquet) == (grown, grown), name
        assert (first[name].new_jsonl, first[name].new_parquet) == (first[name].total, first[name].total), name
    assert sum(each.new_jsonl for each in pipeline.second.exported) >= len(pipeline.added)
    assert [(each.new_jsonl, each.new_parquet) for each in pipeline.third.exported] == [(0, 0)] * len(CLASSES)
    assert pipeline.third.files == pipeline.second.files
