"""The DAG on a real Airflow 3 scheduler, not `airflow dags test`: LocalExecutor, a PostgreSQL
metadata database, the scheduler, the DAG processor and the API server (Airflow 3's tasks report
to its execution API), Meltano's state in PostgreSQL too (the shared state backend).

One account entry, a parent with `twilio_subaccounts: all` and `shards: 3`, against the emulator
with 6 active subaccounts: the DAG never lists them. The three shards run in parallel, each with
its own Meltano state ID, in a pool; one shard's tap is killed (`kill -9`) mid-run, and only that
shard retries. Checked: the union of the shards' rows equals one unsharded run's records (keys and
counts), their bookmarks together equal that run's, nothing is lost, and a second DAG run adds
exactly the new records. About 2 to 3 minutes (plus `.venv-airflow` once, see test_airflow_dag.py).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import threading
import time
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY
from emulator.telnyx import DEFAULT_ORGANIZATION
from tap_events.shards import shard_of
from tests.common import iso
from tests.meltano_helpers import (
    MELTANO,
    Account,
    Key,
    add_one_record_per_stream,
    base_environment,
    expected_keys,
    install_plugins,
    key_of,
    meltano_state,
    one_meltano_run_at_a_time,
    small_emulator,
    start_date,
    streams,
)
from tests.pipeline.test_airflow_dag import DAG_ID, DAGS, airflow_bin
from tests.postgres_cluster import PostgresCluster, free_port, require_postgres
from tests.subaccount_helpers import bookmarks_over, subaccount_sid, subaccount_token
from tests.tap_runner import run_tap
from tests.warehouses import DuckDBWarehouse

SHARDS = 3
NAME = "acme"
POOL = "tap_events_acme"
SUBACCOUNTS = [subaccount_sid(number) for number in range(1, 7)]
TWILIO_ACCOUNTS = [DEFAULT_ACCOUNT_SID, *SUBACCOUNTS]
#: The shard whose tap is killed mid-run: the one with the most accounts.
KILLED = collections.Counter(shard_of(sid, SHARDS) for sid in TWILIO_ACCOUNTS).most_common(1)[0][0]
RUN_NAMES = [f"{NAME}-shard-{index}-of-{SHARDS}" for index in range(1, SHARDS + 1)]
SECRETS = (DEFAULT_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY, *(subaccount_token(n) for n in range(1, 7)))
WAIT = 600.0


def accounts() -> list[Account]:
    return [Account(DEFAULT_ACCOUNT_SID, DEFAULT_ORGANIZATION), *(Account(sid, None) for sid in SUBACCOUNTS)]


@dataclass
class Airflow:
    """The Airflow processes of one test, their environment, and the metadata database."""

    bin: Path
    home: Path
    environment: dict[str, str]
    airflow_db: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_files: list[t.BinaryIO] = field(default_factory=list)

    def command(self, *arguments: str) -> str:
        result = subprocess.run(
            [str(self.bin / "airflow"), *arguments],
            env=self.environment,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"airflow {' '.join(arguments)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def start(self, *arguments: str) -> None:
        log = (self.home / f"{arguments[0]}.log").open("wb")
        self.log_files.append(log)
        self.processes.append(
            subprocess.Popen(
                [str(self.bin / "airflow"), *arguments],
                env=self.environment,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped with everything it started
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self.log_files:
            log.close()

    def query(self, sql: str, *parameters: t.Any) -> list[tuple[t.Any, ...]]:
        import psycopg

        with psycopg.connect(self.airflow_db) as connection:
            return connection.execute(sql, parameters).fetchall()  # type: ignore[arg-type]

    def logs(self) -> str:
        return "\n".join(
            f"== {path.name}\n{path.read_text(errors='replace')[-4000:]}" for path in sorted(self.home.glob("*.log"))
        )

    def wait_for(self, what: str, condition: t.Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            dead = [p.args for p in self.processes if p.poll() is not None]
            assert not dead, f"an Airflow process ended: {dead}\n{self.logs()}"
            assert time.monotonic() < deadline, f"gave up waiting for {what}\n{self.logs()}"
            time.sleep(1)

    def trigger(self, run_id: str) -> str:
        self.command("dags", "trigger", DAG_ID, "--run-id", run_id)

        def finished() -> bool:
            rows = self.query("select state from dag_run where dag_id = %s and run_id = %s", DAG_ID, run_id)
            return bool(rows) and rows[0][0] in ("success", "failed")

        self.wait_for(f"DAG run {run_id}", finished)
        return str(self.query("select state from dag_run where dag_id = %s and run_id = %s", DAG_ID, run_id)[0][0])

    def sync_tries(self, run_id: str) -> dict[str, tuple[str, int]]:
        """Rendered map index (the run's name) -> (state, try number) of each `sync` instance."""
        rows = self.query(
            "select rendered_map_index, state, try_number from task_instance "
            "where dag_id = %s and run_id = %s and task_id = 'sync'",
            DAG_ID,
            run_id,
        )
        return {name: (state, tries) for name, state, tries in rows}


def wait_for_port(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.5)
    raise AssertionError(f"nothing listens on port {port}")


def tap_processes_of_shard(index: int) -> list[int]:
    """The pids of the tap (not its discovery, not Meltano) reading shard `index`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        is_tap = any(arg.endswith(b"bin/tap-events") for arg in argv) and b"--discover" not in argv
        if is_tap and f"TAP_EVENTS_SHARD={index}/{SHARDS}".encode() in environ:
            found.append(int(entry.name))
    return found


class Killer(threading.Thread):
    """Kills shard `KILLED`'s tap with SIGKILL once the emulator has answered some of its data
    requests: mid-run, with STATE behind it and windows ahead of it."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(daemon=True)
        self.emulator = emulator
        self.killed: int | None = None
        self.stop = threading.Event()
        owners = {sid for sid in TWILIO_ACCOUNTS if shard_of(sid, SHARDS) == KILLED}
        self.headers = {
            "Basic " + base64.b64encode(f"{sid}:{self.emulator.twilio_accounts[sid]}".encode()).decode()
            for sid in owners
        }

    def run(self) -> None:
        while not self.stop.is_set() and self.killed is None:
            served = sum(
                1
                for seen in list(self.emulator.seen)
                if "/v1/" in seen.url and seen.status == 200 and seen.headers.get("Authorization") in self.headers
            )
            pids = tap_processes_of_shard(KILLED) if served >= 12 else []
            if pids:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.killed = pids[0]
            time.sleep(0.05)


@dataclass
class Runs:
    emulator: Emulator
    since: dt.datetime
    airflow: Airflow
    first: dict[str, tuple[str, int]]
    second: dict[str, tuple[str, int]]
    first_state: str
    second_state: str
    killed: int | None
    rows_after_first: collections.Counter[tuple[str, Key]]
    rows_after_second: collections.Counter[tuple[str, Key]]
    added: set[tuple[str, Key]]
    reference_records: collections.Counter[tuple[str, Key]]
    reference_bookmarks: dict[tuple[str, str], str]
    shard_bookmarks: dict[tuple[str, str], str]
    shard_accounts: dict[str, set[str]]
    peak_running: int
    meltano_env: dict[str, str]


def warehouse_rows(directory: Path) -> collections.Counter[tuple[str, Key]]:
    """(stream, primary key) -> rows, over every shard's DuckDB file."""
    rows: collections.Counter[tuple[str, Key]] = collections.Counter()
    for name in RUN_NAMES:
        path = directory / f"{name}.duckdb"
        if not path.exists():
            continue
        warehouse = DuckDBWarehouse(path)
        for stream in warehouse.tables():
            for key in warehouse.keys(stream, streams()[stream].key_properties):
                rows[(stream, key)] += 1
    return rows


def shard_states(conninfo: str) -> dict[str, dict[str, t.Any]]:
    """Each shard's Singer state as Meltano keeps it, read from its system database (the project's
    Meltano lock is held while the DAG runs, so not through `meltano state get`)."""
    import psycopg
    from meltano.core.utils import merge

    states = {}
    with psycopg.connect(conninfo) as connection:
        for name in RUN_NAMES:
            state_id = f"prod:tap-events-to-target-duckdb:{name}"
            rows = connection.execute(
                "select completed_state, partial_state from state where state_id = %s", [state_id]
            ).fetchall()
            assert rows, f"no Meltano state {state_id}"
            completed, partial = (json.loads(v) if isinstance(v, str) else v for v in rows[0])
            # As Meltano reads it (`MeltanoState.json_merged`): the partial state over the completed one.
            states[name] = merge(partial or {}, completed or {})["singer_state"]
    return states


def accounts_of(state: dict[str, t.Any]) -> set[str]:
    return {p["context"]["account_sid"] for s in state.get("bookmarks", {}).values() for p in s.get("partitions", [])}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    postgres_bin = require_postgres()
    install_plugins()
    bin_dir = airflow_bin()
    home = tmp_path_factory.mktemp("airflow-scheduler")
    with PostgresCluster(postgres_bin) as postgres, small_emulator() as emulator:
        for number, sid in enumerate(SUBACCOUNTS, start=1):
            emulator.add_twilio_subaccount(sid, subaccount_token(number))
        since = start_date()
        airflow_db = postgres.url(postgres.create_database("airflow"))
        meltano_db = postgres.url(postgres.create_database("meltano"))
        api_port = free_port()
        environment = base_environment()
        environment.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="8",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_db,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC=airflow_db,
            AIRFLOW__API_AUTH__JWT_SECRET=os.urandom(48).hex(),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="600",
            TAP_EVENTS_ACCOUNTS=json.dumps(
                [
                    {
                        "name": NAME,
                        "twilio_conn_id": "twilio_acme",
                        "telnyx_conn_id": "telnyx_main",
                        "twilio_subaccounts": "all",
                        "shards": SHARDS,
                    }
                ]
            ),
            AIRFLOW_CONN_TWILIO_ACME=json.dumps(
                {"conn_type": "generic", "login": DEFAULT_ACCOUNT_SID, "password": DEFAULT_AUTH_TOKEN}
            ),
            AIRFLOW_CONN_TELNYX_MAIN=json.dumps({"conn_type": "generic", "password": DEFAULT_TELNYX_API_KEY}),
            MELTANO_EXECUTABLE=str(MELTANO),
            MELTANO_ENVIRONMENT="prod",
            MELTANO_DATABASE_URI=meltano_db,
            MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
            TAP_EVENTS_LOADER="target-duckdb",
            TAP_EVENTS_DUCKDB_DIR=str(home / "warehouse"),
            TAP_EVENTS_START_DATE=iso(since),
            TAP_EVENTS_SCHEDULE="",  # triggered by the test only
            TAP_EVENTS_POOL=POOL,
            TAP_EVENTS_RETRIES="2",
            TAP_EVENTS_RETRY_DELAY_SECONDS="1",
        )
        for setting in ("TWILIO_MONITOR", "TWILIO_TASKROUTER", "TWILIO_SERVERLESS", "TWILIO_API", "TELNYX"):
            environment[f"TAP_EVENTS_{setting}_BASE_URL"] = emulator.base_url
        airflow = Airflow(bin_dir, home, environment, postgres.conninfo("airflow"))
        airflow.command("db", "migrate")
        airflow.command("pools", "set", POOL, str(SHARDS), "tap-events runs against the parent acme")
        try:
            airflow.start("api-server", "--apps", "execution", "--host", "127.0.0.1", "--port", str(api_port))
            airflow.start("scheduler")
            airflow.start("dag-processor")
            wait_for_port(api_port)
            airflow.wait_for(
                "the DAG to be parsed", lambda: bool(airflow.query("select 1 from dag where dag_id = %s", DAG_ID))
            )
            with one_meltano_run_at_a_time():  # the tasks run Meltano in the project
                emulator.latency = 0.03  # slow enough to be killed mid-run
                killer = Killer(emulator)
                killer.start()
                peak = Peak(airflow)
                peak.start()
                first_state = airflow.trigger("first")
                killer.stop.set()
                peak.stop.set()
                emulator.latency = 0.0
                first = airflow.sync_tries("first")
                rows_after_first = warehouse_rows(home / "warehouse")
                first_states = shard_states(postgres.conninfo("meltano"))
                # One unsharded run of the same data, for comparison.
                reference = run_tap(emulator.tap_config(start_date=iso(since), twilio_subaccounts="all"))
                assert reference.returncode == 0, reference.stderr
                when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
                added = {
                    (stream, key)
                    for account in accounts()
                    for stream, key in add_one_record_per_stream(emulator, when, account).items()
                }
                second_state = airflow.trigger("second")
                second = airflow.sync_tries("second")
                rows_after_second = warehouse_rows(home / "warehouse")
        finally:
            airflow.stop()
        meltano_env = {
            **base_environment(),
            "MELTANO_DATABASE_URI": meltano_db,
            "MELTANO_ENVIRONMENT": "prod",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        reference_records = collections.Counter(
            (stream, key_of(record, streams()[stream]))
            for stream, records in reference.records.items()
            for record in records
        )
        yield Runs(
            emulator=emulator,
            since=since,
            airflow=airflow,
            first=first,
            second=second,
            first_state=first_state,
            second_state=second_state,
            killed=killer.killed,
            rows_after_first=rows_after_first,
            rows_after_second=rows_after_second,
            added=added,
            reference_records=reference_records,
            reference_bookmarks=bookmarks_over([reference.final_state]),
            shard_bookmarks=bookmarks_over(first_states.values()),
            shard_accounts={name: accounts_of(state) for name, state in first_states.items()},
            peak_running=peak.most,
            meltano_env=meltano_env,
        )


class Peak(threading.Thread):
    """The most `sync` instances running at once, from the metadata database."""

    def __init__(self, airflow: Airflow) -> None:
        super().__init__(daemon=True)
        self.airflow, self.most, self.stop = airflow, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(Exception):
                rows = self.airflow.query(
                    "select count(*) from task_instance where dag_id = %s and task_id = 'sync' and state = 'running'",
                    DAG_ID,
                )
                self.most = max(self.most, int(rows[0][0]))
            time.sleep(0.2)


def test_both_dag_runs_succeed_with_one_task_per_shard_running_in_parallel(runs):
    assert (runs.first_state, runs.second_state) == ("success", "success"), runs.airflow.logs()
    assert set(runs.first) == set(RUN_NAMES) == set(runs.second)
    assert runs.peak_running == SHARDS, "the shards ran at the same time"


def test_the_killed_shard_alone_retried(runs):
    assert runs.killed is not None, "a shard's tap was killed mid-run"
    killed = RUN_NAMES[KILLED - 1]
    assert runs.first == {name: ("success", 2 if name == killed else 1) for name in RUN_NAMES}


def test_each_shard_has_its_own_state_with_only_its_accounts(runs):
    for index, name in enumerate(RUN_NAMES, start=1):
        assert runs.shard_accounts[name] == {sid for sid in TWILIO_ACCOUNTS if shard_of(sid, SHARDS) == index}


def test_the_shards_together_hold_one_runs_records_and_bookmarks(runs):
    first_round = runs.rows_after_first
    assert set(first_round) == set(runs.reference_records), "the same keys as one unsharded run"
    assert first_round == runs.reference_records, "the same counts: each record once"
    assert runs.shard_bookmarks == runs.reference_bookmarks


def test_nothing_was_lost_and_the_second_run_added_only_the_new_records(runs):
    emulated: set[tuple[str, Key]] = set()
    for account in accounts():
        for stream, keys in expected_keys(runs.emulator, runs.since, account).items():
            emulated |= {(stream, key) for key in keys}
    assert set(runs.rows_after_second) == emulated, "every record of every account, the new ones included"
    assert runs.added, "records were added between the runs"
    assert set(runs.rows_after_second) - set(runs.rows_after_first) == runs.added
    assert set(runs.rows_after_first) <= set(runs.rows_after_second)
    assert max(runs.rows_after_second.values()) == 1, "no row twice"


def test_no_secret_reaches_airflow_or_meltano_state(runs):
    for path in runs.airflow.home.rglob("*"):
        if path.is_file() and "warehouse" not in path.parts:
            content = path.read_bytes()
            leaked = [secret for secret in SECRETS if secret.encode() in content]
            assert not leaked, f"{path} holds a credential"
    xcom = str(runs.airflow.query("select value::text from xcom where dag_id = %s", DAG_ID))
    assert RUN_NAMES[0] in xcom, "XCom was read as text"
    assert not any(secret in xcom for secret in SECRETS)
    states = json.dumps(
        [meltano_state(f"prod:tap-events-to-target-duckdb:{name}", runs.meltano_env) for name in RUN_NAMES]
    )
    assert not any(secret in states for secret in SECRETS)
