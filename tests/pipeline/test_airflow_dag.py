"""The Airflow DAG (orchestrate/airflow/dags/tap_events.py), with Apache Airflow installed.

Airflow lives in its own virtual environment, `.venv-airflow`, made on first use and kept
(see `airflow_bin`). The DAG is imported there and its structure checked; then it runs once
with `airflow dags test` against the local emulator into DuckDB, for three accounts: two Twilio
accounts (credentials from an Airflow connection and from a worker environment variable) and
one Telnyx organization.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.monitor import MonitorAPI
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY
from emulator.serverless import ServerlessAPI
from emulator.taskrouter import TaskRouterAPI
from emulator.telnyx import DEFAULT_ORGANIZATION
from tests.common import iso
from tests.meltano_helpers import (
    MELTANO,
    ROOT,
    Account,
    api,
    base_environment,
    expected_keys,
    install_plugins,
    one_meltano_run_at_a_time,
    project_lock,
    small_emulator,
    start_date,
    streams_for,
)
from tests.warehouses import DuckDBWarehouse

AIRFLOW_REQUIREMENT = "apache-airflow==3.3.2"
#: Installed with Airflow: the PostgreSQL driver of the real-scheduler test's metadata database
#: (sync and async, SQLAlchemy's `postgresql+psycopg`).
AIRFLOW_EXTRAS = ("psycopg[binary]==3.3.9",)
AIRFLOW_INSTALLED = " ".join((AIRFLOW_REQUIREMENT, *AIRFLOW_EXTRAS))
AIRFLOW_VENV = ROOT / ".venv-airflow"
DAGS = ROOT / "orchestrate" / "airflow" / "dags"
DAG_ID = "tap_events"

SECOND_ACCOUNT_SID = "AC" + "fedcba9876543210" * 2
SECOND_AUTH_TOKEN = "globex-auth-token-not-in-any-file"
#: name -> (whose records, how its credentials are given)
ACCOUNTS = {
    "acme": Account(DEFAULT_ACCOUNT_SID, None),
    "globex": Account(SECOND_ACCOUNT_SID, None),
    "telnyx-main": Account(None, DEFAULT_ORGANIZATION),
}
ACCOUNT_LIST = [
    {"name": "acme", "twilio_conn_id": "twilio_acme"},
    {
        "name": "globex",
        "twilio_account_sid": SECOND_ACCOUNT_SID,
        "twilio_auth_token_env": "GLOBEX_TWILIO_AUTH_TOKEN",
    },
    {"name": "telnyx-main", "telnyx_conn_id": "telnyx_main"},
]
SECRETS = (DEFAULT_AUTH_TOKEN, SECOND_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY)


def airflow_bin() -> Path:
    """`.venv-airflow/bin`, made once (about 20 s with warm package caches) and then reused
    while its marker names the same requirement."""
    with project_lock("airflow-venv"):
        return _airflow_bin()


def _airflow_bin() -> Path:
    marker = AIRFLOW_VENV / ".installed-from"
    if marker.exists() and marker.read_text() == AIRFLOW_INSTALLED:
        return AIRFLOW_VENV / "bin"
    started = time.monotonic()
    venv.create(AIRFLOW_VENV, with_pip=True, clear=True)
    python = AIRFLOW_VENV / "bin" / "python"
    for arguments in (["--upgrade", "pip"], [AIRFLOW_REQUIREMENT, *AIRFLOW_EXTRAS]):
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *arguments],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    marker.write_text(AIRFLOW_INSTALLED)
    print(f"\n{AIRFLOW_VENV.name}: {AIRFLOW_INSTALLED} installed in {time.monotonic() - started:.0f} s")
    return AIRFLOW_VENV / "bin"


def airflow_environment(home: Path) -> dict[str, str]:
    environment = base_environment()
    environment.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    return environment


# ---- the DAG as Airflow sees it -------------------------------------------------------------

INSPECT = r"""
import importlib.util, json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for task in dag.tasks:
        timeout = task.execution_timeout
        tasks[task.task_id] = {
            "mapped": bool(getattr(task, "is_mapped", False)),
            "upstream": sorted(task.upstream_task_ids),
            "retries": task.retries,
            "retry_delay": task.retry_delay.total_seconds(),
            "retry_exponential_backoff": bool(task.retry_exponential_backoff),
            "execution_timeout": timeout.total_seconds() if timeout else None,
            "map_index_template": getattr(task, "map_index_template", None),
        }
    dags[dag_id] = {
        "schedule": str(getattr(dag, "schedule", None)),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tags": sorted(dag.tags),
        "tasks": tasks,
    }

spec = importlib.util.spec_from_file_location("tap_events_dag", sys.argv[1] + "/tap_events.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
refusals = {}
for case, text in json.loads(sys.argv[2]).items():
    try:
        module.parse_accounts(text)
        refusals[case] = None
    except module.AccountConfigError as error:
        refusals[case] = str(error)
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags,
                  "refusals": refusals}))
"""
BAD_ACCOUNT_LISTS = {
    "inline token": json.dumps([{"name": "a", "twilio_account_sid": "AC1", "twilio_auth_token": "s3cr3t-value"}]),
    "duplicate name": json.dumps([{"name": "a", "telnyx_conn_id": "x"}, {"name": "a", "telnyx_conn_id": "y"}]),
    "no credentials": json.dumps([{"name": "a"}]),
    "bad name": json.dumps([{"name": "a b", "telnyx_conn_id": "x"}]),
    "secret in settings": json.dumps(
        [{"name": "a", "telnyx_conn_id": "x", "settings": {"TAP_EVENTS_TELNYX_API_KEY": "s3cr3t-value"}}],
    ),
    "unset": "",
    "too many shards": json.dumps([{"name": "a", "twilio_conn_id": "x", "twilio_subaccounts": "all", "shards": 65}]),
    "subaccounts without a parent": json.dumps([{"name": "a", "telnyx_conn_id": "x", "twilio_subaccounts": "all"}]),
    "subaccounts neither all nor SIDs": json.dumps(
        [{"name": "a", "twilio_conn_id": "x", "twilio_subaccounts": "some"}]
    ),
    "shard in settings": json.dumps([{"name": "a", "twilio_conn_id": "x", "settings": {"TAP_EVENTS_SHARD": "1/2"}}]),
}


@pytest.fixture(scope="module")
def inspected(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The DAG folder parsed by Airflow with no metadata database, Variable or connection."""
    home = tmp_path_factory.mktemp("airflow-parse")
    result = subprocess.run(
        [str(airflow_bin() / "python"), "-c", INSPECT, str(DAGS), json.dumps(BAD_ACCOUNT_LISTS)],
        env=airflow_environment(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dag_folder_imports_without_errors_or_configuration(inspected):
    assert inspected["errors"] == {}
    assert list(inspected["dags"]) == [DAG_ID]


def test_dag_runs_hourly_one_run_at_a_time_without_catchup(inspected):
    dag = inspected["dags"][DAG_ID]
    assert (dag["schedule"], dag["catchup"], dag["max_active_runs"]) == ("@hourly", False, 1)


def test_sync_fans_out_over_the_accounts_with_retries(inspected):
    tasks = inspected["dags"][DAG_ID]["tasks"]
    assert set(tasks) == {"accounts", "sync"}
    assert tasks["sync"]["mapped"] is True
    assert tasks["sync"]["upstream"] == ["accounts"]
    assert tasks["sync"]["map_index_template"] == "{{ account_name }}"
    assert tasks["sync"]["retries"] == 3
    assert tasks["sync"]["retry_delay"] == 300
    assert tasks["sync"]["retry_exponential_backoff"] is True
    assert tasks["sync"]["execution_timeout"] == 4 * 3600


def test_account_list_is_refused_when_malformed_without_echoing_values(inspected):
    refusals = inspected["refusals"]
    assert all(refusals[case] for case in BAD_ACCOUNT_LISTS), refusals
    assert "never inline" in refusals["inline token"]
    assert "used twice" in refusals["duplicate name"]
    assert not any("s3cr3t-value" in message for message in refusals.values())


def test_dag_file_holds_no_credential():
    source = (DAGS / "tap_events.py").read_text()
    assert not any(secret in source for secret in SECRETS)
    assert "AC" + "0123456789abcdef" not in source


# ---- one run with `airflow dags test` ----------------------------------------------------


@dataclass
class DagRun:
    emulator: Emulator
    since: dt.datetime
    home: Path
    output: str
    task_instances: list[tuple[str, int, str | None, str]]
    state_ids: set[str]


def second_account(emulator: Emulator) -> None:
    """A second Twilio account with data of its own in every Twilio API."""
    emulator.twilio_accounts[SECOND_ACCOUNT_SID] = SECOND_AUTH_TOKEN
    api(emulator, MonitorAPI).generate(SECOND_ACCOUNT_SID, 40, 20, 1)
    api(emulator, TaskRouterAPI).generate(SECOND_ACCOUNT_SID, 1, 20, 1)
    api(emulator, ServerlessAPI).generate(SECOND_ACCOUNT_SID, 1, (1,), 10, 3)


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagRun]:
    install_plugins()
    bin_dir = airflow_bin()
    home = tmp_path_factory.mktemp("airflow-home")
    with small_emulator() as emulator:
        second_account(emulator)
        since = start_date()
        environment = airflow_environment(home)
        environment.update(
            AIRFLOW_VAR_TAP_EVENTS_ACCOUNTS=json.dumps(ACCOUNT_LIST),
            AIRFLOW_CONN_TWILIO_ACME=json.dumps(
                {"conn_type": "generic", "login": DEFAULT_ACCOUNT_SID, "password": DEFAULT_AUTH_TOKEN}
            ),
            AIRFLOW_CONN_TELNYX_MAIN=json.dumps({"conn_type": "generic", "password": DEFAULT_TELNYX_API_KEY}),
            GLOBEX_TWILIO_AUTH_TOKEN=SECOND_AUTH_TOKEN,
            # Credentials left in a worker's environment reach no account's run.
            TAP_EVENTS_TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
            TAP_EVENTS_TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
            TAP_EVENTS_TELNYX_API_KEY=DEFAULT_TELNYX_API_KEY,
            MELTANO_EXECUTABLE=str(MELTANO),
            # The production environment: credentials only from the worker (the `emulator`
            # environment's env block would override them with the emulator's own).
            MELTANO_ENVIRONMENT="prod",
            MELTANO_DATABASE_URI=f"sqlite:///{home / 'meltano.db'}",
            MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
            TAP_EVENTS_LOADER="target-duckdb",
            TAP_EVENTS_DUCKDB_DIR=str(home / "warehouse"),
            TAP_EVENTS_START_DATE=iso(since),
            # A failure shows at once instead of after retries minutes apart.
            TAP_EVENTS_RETRIES="0",
        )
        for setting in ("TWILIO_MONITOR", "TWILIO_TASKROUTER", "TWILIO_SERVERLESS", "TELNYX"):
            environment[f"TAP_EVENTS_{setting}_BASE_URL"] = emulator.base_url
        output = ""
        for command in (["db", "migrate"], ["dags", "test", DAG_ID]):
            with one_meltano_run_at_a_time():  # the DAG's tasks run Meltano in the project
                result = subprocess.run(
                    [str(bin_dir / "airflow"), *command],
                    env=environment,
                    cwd=home,
                    capture_output=True,
                    text=True,
                    timeout=420,
                    check=False,
                )
            output += result.stdout + result.stderr
            (home / "commands.log").write_text(output)
            assert result.returncode == 0, output[-8000:]
        with sqlite3.connect(home / "airflow.db") as connection:
            task_instances = connection.execute(
                "select task_id, map_index, rendered_map_index, state from task_instance "
                "where dag_id = ? order by task_id, map_index",
                [DAG_ID],
            ).fetchall()
        with sqlite3.connect(home / "meltano.db") as connection:
            state_ids = {row[0] for row in connection.execute("select state_id from state")}
        yield DagRun(emulator, since, home, output, task_instances, state_ids)


def test_dag_run_has_one_successful_task_per_account(dag_run):
    by_task = {(task, name): state for task, _, name, state in dag_run.task_instances}
    expected: dict[tuple[str, str | None], str] = {("accounts", None): "success"}
    expected.update({("sync", name): "success" for name in ACCOUNTS})
    assert by_task == expected, dag_run.output[-8000:]


def test_each_account_has_its_own_meltano_state(dag_run):
    assert dag_run.state_ids == {f"prod:tap-events-to-target-duckdb:{name}" for name in ACCOUNTS}


def test_each_account_loaded_exactly_its_own_records(dag_run):
    for name, account in ACCOUNTS.items():
        warehouse = DuckDBWarehouse(dag_run.home / "warehouse" / f"{name}.duckdb")
        chosen = streams_for(account)
        assert warehouse.tables() == set(chosen), name
        expected = expected_keys(dag_run.emulator, dag_run.since, account)
        for stream, info in chosen.items():
            assert expected[stream], f"{name} {stream}: nothing to compare with"
            keys = warehouse.keys(stream, info.key_properties)
            assert sorted(keys) == sorted(expected[stream]), f"{name} {stream}"


def test_no_credential_reaches_airflow_logs_database_or_xcom(dag_run):
    assert not any(secret in dag_run.output for secret in SECRETS)
    for path in dag_run.home.rglob("*"):
        if path.is_file() and "warehouse" not in path.parts:
            content = path.read_bytes()
            leaked = [secret for secret in SECRETS if secret.encode() in content]
            assert not leaked, f"{path} holds a credential"
