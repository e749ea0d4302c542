"""tap-events on a schedule: one Meltano run per Twilio account / Telnyx organization, or per
shard of a parent account and all its subaccounts.

`accounts` reads the list of accounts when the run starts, and `sync` fans out over it (dynamic
task mapping): one task instance per account (or per shard of one), named after it, each running

    meltano --environment=$MELTANO_ENVIRONMENT run --state-id-suffix=<run name> tap-events <loader>

with only that account's credentials. Each run therefore has its own Meltano state
(`<environment>:tap-events-to-<loader>:<run name>`), so the instances run in parallel on any
workers and never share or overwrite each other's bookmarks. Each instance retries on its own.

A parent with `"twilio_subaccounts": "all"` and `"shards": N` is read by N runs named
`<name>-shard-<i>-of-<N>`, each with `TAP_EVENTS_SHARD=i/N`: the tap finds every active
subaccount itself when the run starts (the DAG never lists them) and reads the accounts whose SID
hashes to its shard, Telnyx in shard 1. Changing N moves accounts between shards: move their
bookmarks with `tap-events-reshard` first (docs/orchestration.md). Every run is in the pool
`TAP_EVENTS_POOL` (default `tap_events`, which must exist: `airflow pools set tap_events 4
"..."`), whose slots bound the runs against one parent at once.

Nothing secret is in this file, in the DAG's configuration or in XCom: the account list names
Airflow connections (or worker environment variables) that hold the credentials, and they are
read only inside the running task.

Configuration
-------------
Airflow Variable `tap_events_accounts` (or the worker environment variable
`TAP_EVENTS_ACCOUNTS`): a JSON list, one object per account::

    [
      {"name": "acme-us", "twilio_conn_id": "twilio_acme_us"},
      {"name": "globex", "twilio_account_sid": "AC...", "twilio_auth_token_env": "GLOBEX_TOKEN"},
      {"name": "telnyx-main", "telnyx_conn_id": "telnyx_main",
       "settings": {"TAP_EVENTS_LOOKBACK_WINDOW_MINUTES": "30"}}
    ]

- `name`: letters, digits, `-` and `_`; the Meltano state id suffix (never rename an account:
  a new name starts from `start_date` again).
- Twilio, either `twilio_conn_id` (an Airflow connection: login = Account SID, password = Auth
  Token; or extra `{"api_key_sid": "SK..."}`, login = Account SID, password = the key's secret),
  or `twilio_account_sid` with `twilio_auth_token_env` (or `twilio_api_key_sid` with
  `twilio_api_key_secret_env`): the name of a worker environment variable holding the secret.
- Telnyx, either `telnyx_conn_id` (password = API key) or `telnyx_api_key_env`.
- `twilio_subaccounts` (optional): `"all"`, or a list of subaccount SIDs, read with the account's
  credentials (its auth token: an API key cannot get a subaccount's credentials).
- `shards` (optional, 1 to 64, default 1): how many runs share the account and its subaccounts.
- `settings` (optional): more non-secret environment variables for this account's Meltano run,
  e.g. `TAP_EVENTS_TWILIO_WORKSPACE_SIDS` or `TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA`.

Worker environment: `MELTANO_PROJECT_ROOT` (default: this repository), `MELTANO_EXECUTABLE`
(default: `meltano` on the PATH), `MELTANO_ENVIRONMENT` (default `prod`), `TAP_EVENTS_LOADER`
(default `target-postgres`; with `target-duckdb` each account writes its own file
`$TAP_EVENTS_DUCKDB_DIR/<name>.duckdb`, DuckDB allowing one writer per file),
`TAP_EVENTS_SCHEDULE` (default `@hourly`; empty: only when triggered), `TAP_EVENTS_MAX_PARALLEL`
(default 16), `TAP_EVENTS_RETRIES` (default 3, `TAP_EVENTS_RETRY_DELAY_SECONDS` apart, default 300,
doubling), `TAP_EVENTS_POOL` (default `tap_events`), and the
loader's connection settings (`TARGET_POSTGRES_HOST`, ... from a secrets backend or the
deployment, never here). Share Meltano's state between workers: `MELTANO_DATABASE_URI` on
PostgreSQL or `MELTANO_STATE_BACKEND_URI=s3://...` (docs/orchestration.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import typing as t
from pathlib import Path

from airflow.sdk import BaseHook, Variable, dag, get_current_context, task

log = logging.getLogger(__name__)

ACCOUNTS_VARIABLE = "tap_events_accounts"
ACCOUNTS_ENVIRONMENT_VARIABLE = "TAP_EVENTS_ACCOUNTS"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Every tap setting that carries an account or a credential: set for each run from the account
#: alone (empty when it has none), never inherited from the worker or meltano.yml.
CREDENTIAL_SETTINGS = (
    "TAP_EVENTS_TWILIO_ACCOUNT_SID",
    "TAP_EVENTS_TWILIO_AUTH_TOKEN",
    "TAP_EVENTS_TWILIO_API_KEY_SID",
    "TAP_EVENTS_TWILIO_API_KEY_SECRET",
    "TAP_EVENTS_TELNYX_API_KEY",
)
#: Keys an account entry may have; anything else (a pasted token, a typo) is refused.
ACCOUNT_KEYS = {
    "name",
    "twilio_conn_id",
    "twilio_account_sid",
    "twilio_auth_token_env",
    "twilio_api_key_sid",
    "twilio_api_key_secret_env",
    "telnyx_conn_id",
    "telnyx_api_key_env",
    "twilio_subaccounts",
    "shards",
    "settings",
}
#: Set for each run from its account entry alone, never inherited (nor from `settings`).
RUN_SETTINGS = ("TAP_EVENTS_TWILIO_SUBACCOUNTS", "TAP_EVENTS_SHARD")
MAX_SHARDS = 64
#: Airflow maps at most this many task instances by default (`max_map_length`).
MAX_RUNS = 1024
SUBACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
#: Empty: no schedule (runs only when triggered).
SCHEDULE = os.environ.get("TAP_EVENTS_SCHEDULE", "@hourly") or None
MAX_PARALLEL = int(os.environ.get("TAP_EVENTS_MAX_PARALLEL", "16"))
RETRIES = int(os.environ.get("TAP_EVENTS_RETRIES", "3"))
RETRY_DELAY = dt.timedelta(seconds=int(os.environ.get("TAP_EVENTS_RETRY_DELAY_SECONDS", "300")))
POOL = os.environ.get("TAP_EVENTS_POOL", "tap_events")


class AccountConfigError(ValueError):
    """The account list is malformed; the message never repeats a value."""


def parse_accounts(text: str | None) -> list[dict[str, t.Any]]:
    """The account list, checked: unique valid names, one provider at least, no inline secret."""
    if not text:
        raise AccountConfigError(
            f"No accounts: set the Airflow Variable {ACCOUNTS_VARIABLE!r} (or the environment "
            f"variable {ACCOUNTS_ENVIRONMENT_VARIABLE}) to a JSON list of accounts."
        )
    try:
        accounts = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AccountConfigError(f"{ACCOUNTS_VARIABLE} is not valid JSON: {exc.msg}") from None
    if not isinstance(accounts, list) or not accounts:
        raise AccountConfigError(f"{ACCOUNTS_VARIABLE} must be a non-empty JSON list.")
    seen: set[str] = set()
    for index, account in enumerate(accounts):
        where = f"{ACCOUNTS_VARIABLE}[{index}]"
        if not isinstance(account, dict):
            raise AccountConfigError(f"{where} must be an object.")
        unknown = sorted(set(account) - ACCOUNT_KEYS)
        if unknown:
            raise AccountConfigError(
                f"{where} has unknown keys {unknown}: credentials are given by connection id or "
                "environment variable name, never inline."
            )
        name = account.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise AccountConfigError(f"{where}: 'name' must be 1-64 letters, digits, '-' or '_'.")
        if name in seen:
            raise AccountConfigError(f"{where}: the name {name!r} is used twice.")
        seen.add(name)
        if not (set(account) & (ACCOUNT_KEYS - {"name", "settings", "twilio_subaccounts", "shards"})):
            raise AccountConfigError(f"{where} ({name}) has no Twilio or Telnyx credentials.")
        settings = account.get("settings", {})
        if not isinstance(settings, dict) or not all(isinstance(v, str) for v in settings.values()):
            raise AccountConfigError(f"{where} ({name}): 'settings' must map names to strings.")
        refused = sorted(set(settings) & set(CREDENTIAL_SETTINGS))
        if refused:
            raise AccountConfigError(f"{where} ({name}): {refused} may not be in 'settings' (use a connection).")
        refused = sorted(set(settings) & set(RUN_SETTINGS))
        if refused:
            raise AccountConfigError(
                f"{where} ({name}): {refused} may not be in 'settings' (use the keys of the entry)."
            )
        _check_subaccounts(account, where, name)
    if len(runs(accounts)) > MAX_RUNS:
        raise AccountConfigError(f"{ACCOUNTS_VARIABLE} makes more than {MAX_RUNS} runs: use fewer shards.")
    return accounts


def _check_subaccounts(account: dict[str, t.Any], where: str, name: str) -> None:
    subaccounts = account.get("twilio_subaccounts")
    if subaccounts is not None:
        if not ({"twilio_conn_id", "twilio_account_sid"} & set(account)):
            raise AccountConfigError(f"{where} ({name}): 'twilio_subaccounts' needs the parent's Twilio credentials.")
        listed = (
            isinstance(subaccounts, list)
            and subaccounts
            and all(isinstance(sid, str) and SUBACCOUNT_SID.match(sid) for sid in subaccounts)
        )
        if subaccounts not in ("all", "none") and not listed:
            raise AccountConfigError(f"{where} ({name}): 'twilio_subaccounts' must be 'all' or a list of 'AC...' SIDs.")
    shards = account.get("shards", 1)
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
        raise AccountConfigError(f"{where} ({name}): 'shards' must be a whole number from 1 to {MAX_SHARDS}.")


def runs(accounts: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """One run per account, or per shard of an account with `shards` > 1: references only (XCom)."""
    expanded = []
    for account in accounts:
        count = int(account.get("shards", 1))
        if count == 1:
            expanded.append({**account, "run": account["name"]})
            continue
        for index in range(1, count + 1):
            expanded.append(
                {**account, "run": f"{account['name']}-shard-{index}-of-{count}", "shard": f"{index}/{count}"}
            )
    return expanded


SECRET_SETTINGS = (
    "TAP_EVENTS_TWILIO_AUTH_TOKEN",
    "TAP_EVENTS_TWILIO_API_KEY_SECRET",
    "TAP_EVENTS_TELNYX_API_KEY",
)


def _secret_from_environment(variable: str, account: str) -> str:
    value = os.environ.get(variable)
    if not value:
        msg = f"Account {account}: the environment variable {variable} is not set on this worker."
        raise AccountConfigError(msg)
    return value


def credentials(account: dict[str, t.Any]) -> dict[str, str]:
    """The tap's credential settings for one account, read from its connections or variables."""
    name = account["name"]
    settings = dict.fromkeys(CREDENTIAL_SETTINGS, "")
    if "twilio_conn_id" in account:
        connection = BaseHook.get_connection(account["twilio_conn_id"])
        settings["TAP_EVENTS_TWILIO_ACCOUNT_SID"] = connection.login or ""
        api_key_sid = (connection.extra_dejson or {}).get("api_key_sid")
        if api_key_sid:
            settings["TAP_EVENTS_TWILIO_API_KEY_SID"] = api_key_sid
            settings["TAP_EVENTS_TWILIO_API_KEY_SECRET"] = connection.password or ""
        else:
            settings["TAP_EVENTS_TWILIO_AUTH_TOKEN"] = connection.password or ""
    elif "twilio_account_sid" in account:
        settings["TAP_EVENTS_TWILIO_ACCOUNT_SID"] = account["twilio_account_sid"]
        if "twilio_api_key_sid" in account:
            settings["TAP_EVENTS_TWILIO_API_KEY_SID"] = account["twilio_api_key_sid"]
            settings["TAP_EVENTS_TWILIO_API_KEY_SECRET"] = _secret_from_environment(
                account.get("twilio_api_key_secret_env", ""), name
            )
        else:
            settings["TAP_EVENTS_TWILIO_AUTH_TOKEN"] = _secret_from_environment(
                account.get("twilio_auth_token_env", ""), name
            )
    if "telnyx_conn_id" in account:
        settings["TAP_EVENTS_TELNYX_API_KEY"] = BaseHook.get_connection(account["telnyx_conn_id"]).password or ""
    elif "telnyx_api_key_env" in account:
        settings["TAP_EVENTS_TELNYX_API_KEY"] = _secret_from_environment(account["telnyx_api_key_env"], name)
    from airflow.sdk.log import mask_secret

    for setting in SECRET_SETTINGS:
        if settings[setting]:
            mask_secret(settings[setting])  # shown as *** wherever Airflow would log it
    return settings


def project_root() -> Path:
    configured = os.environ.get("MELTANO_PROJECT_ROOT")
    return Path(configured) if configured else Path(__file__).resolve().parents[3]


def loader() -> str:
    return os.environ.get("TAP_EVENTS_LOADER", "target-postgres")


def meltano_executable() -> str:
    return os.environ.get("MELTANO_EXECUTABLE") or shutil.which("meltano") or "meltano"


def shared_sys_dir() -> Path:
    """The project's `.meltano` (or `MELTANO_SYS_DIR_ROOT`): plugins' environments, SQLite system database."""
    configured = os.environ.get("MELTANO_SYS_DIR_ROOT")
    return Path(configured) if configured else project_root() / ".meltano"


def own_sys_dir(run: str) -> Path:
    """A `.meltano` for one run: Meltano writes each plugin's config, catalog and state files in
    `.meltano/run/<plugin>/` whatever the state ID, so two runs of the project at once on one
    machine (shards, accounts) would read each other's. This one links every entry of the shared
    directory (the plugins' virtual environments, the system database) but has its own `run/`
    and `logs/`."""
    shared = shared_sys_dir()
    own = shared / "dag-runs" / run
    own.mkdir(parents=True, exist_ok=True)
    for entry in shared.iterdir():
        if entry.name in ("run", "logs", "dag-runs"):
            continue
        link = own / entry.name
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link) if link.is_dir() else link.unlink()
            link.symlink_to(entry)
    return own


def migrate_meltano_database() -> None:
    """Any Meltano command brings its system database up to date; two doing so at once on a new
    database collide (a duplicate key): done once here, before the runs start in parallel."""
    environment = {key: value for key, value in os.environ.items() if key not in CREDENTIAL_SETTINGS}
    environment["MELTANO_PROJECT_ROOT"] = str(project_root())
    result = subprocess.run(
        [meltano_executable(), f"--environment={os.environ.get('MELTANO_ENVIRONMENT', 'prod')}", "state", "list"],
        cwd=project_root(),
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"meltano could not open its system database: {result.stderr[-2000:]}")


def meltano_command(account: dict[str, t.Any]) -> list[str]:
    executable = meltano_executable()
    environment = os.environ.get("MELTANO_ENVIRONMENT", "prod")
    return [
        executable,
        f"--environment={environment}",
        "run",
        f"--state-id-suffix={account['run']}",
        "tap-events",
        loader(),
    ]


def meltano_environment(account: dict[str, t.Any]) -> dict[str, str]:
    """The worker's environment, with this account's credentials and settings only."""
    environment = {
        key: value
        for key, value in os.environ.items()
        # A multi-account setting of the tap would read other accounts in this run.
        if key != "TAP_EVENTS_TWILIO_ACCOUNTS"
    }
    environment.update(credentials(account))
    environment.update(dict.fromkeys(RUN_SETTINGS, ""))
    subaccounts = account.get("twilio_subaccounts")
    if subaccounts is not None:
        environment["TAP_EVENTS_TWILIO_SUBACCOUNTS"] = (
            subaccounts if isinstance(subaccounts, str) else json.dumps(subaccounts)
        )
    if account.get("shard"):
        environment["TAP_EVENTS_SHARD"] = account["shard"]
    environment.update(account.get("settings", {}))
    environment["MELTANO_PROJECT_ROOT"] = str(project_root())
    if "MELTANO_DATABASE_URI" not in environment:
        # The default SQLite system database, named where it is (the run's own `.meltano` links it).
        environment["MELTANO_DATABASE_URI"] = f"sqlite:///{shared_sys_dir() / 'meltano.db'}"
    environment["MELTANO_SYS_DIR_ROOT"] = str(own_sys_dir(account["run"]))
    if loader() == "target-duckdb" and "TARGET_DUCKDB_FILEPATH" not in account.get("settings", {}):
        directory = Path(os.environ.get("TAP_EVENTS_DUCKDB_DIR") or project_root() / "output")
        directory.mkdir(parents=True, exist_ok=True)
        environment["TARGET_DUCKDB_FILEPATH"] = str(directory / f"{account['run']}.duckdb")
    return environment


@dag(
    dag_id="tap_events",
    description="Twilio and Telnyx audit events into the warehouse, one Meltano run per account.",
    schedule=SCHEDULE,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    # One run at a time: the next run of an account starts from the bookmarks of the last one.
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=6),
    default_args={
        "owner": "data-platform",
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(hours=1),
    },
    tags=["tap-events", "meltano"],
    doc_md=__doc__,
)
def tap_events() -> None:
    @task(retries=1, retry_delay=dt.timedelta(minutes=1))
    def accounts() -> list[dict[str, t.Any]]:
        """The runs of the configured accounts, one per shard (references to credentials only:
        this goes to XCom; subaccounts are found by each run, never listed here)."""
        text = Variable.get(ACCOUNTS_VARIABLE, default=None) or os.environ.get(ACCOUNTS_ENVIRONMENT_VARIABLE)
        planned = runs(parse_accounts(text))
        migrate_meltano_database()
        return planned

    @task(
        map_index_template="{{ account_name }}",
        max_active_tis_per_dagrun=MAX_PARALLEL,
        execution_timeout=dt.timedelta(hours=4),
        pool=POOL,
    )
    def sync(account: dict[str, t.Any]) -> str:
        """One account or shard: `meltano run` with its own credentials and its own state id."""
        context = get_current_context()
        context["account_name"] = account["run"]  # type: ignore[typeddict-unknown-key]
        command = meltano_command(account)
        log.info("Account %s: %s", account["run"], " ".join(command))
        process = subprocess.Popen(
            command,
            cwd=project_root(),
            env=meltano_environment(account),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                log.info("%s", line.rstrip())
            process.wait()
        finally:
            # A timeout or a kill of the task stops Meltano too (it saves the state it has).
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        if process.returncode != 0:
            msg = f"meltano run for account {account['run']} exited with {process.returncode}"
            raise RuntimeError(msg)
        environment = os.environ.get("MELTANO_ENVIRONMENT", "prod")
        return f"{environment}:tap-events-to-{loader()}:{account['run']}"

    sync.expand(account=accounts())


tap_events()
