"""What the Meltano and Airflow tests share.

- `small_emulator()` and `START`: a data set small enough for a whole Meltano run in seconds
  (Serverless logs are read at 5 requests per second, one request per one-day window and
  page, so the runs start a few hours back, and every API's data is made to fall mostly inside them).
- `EMULATED`: where the emulator keeps each stream's records, so that the warehouse can be
  compared with the emulator's own data. A stream missing here (a new API) is compared with the
  tap's own RECORD output instead (`tap_keys`).
- `meltano()` / `meltano_env()`: the real `meltano` command, pointed at the emulator, with a
  system database (state) of the test's own.

The warehouses the runs load into are in `warehouses.py`, the PostgreSQL server in
`postgres_cluster.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from emulator import Emulator
from emulator.monitor import MonitorAPI
from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY
from emulator.serverless import ServerlessAPI
from emulator.taskrouter import TaskRouterAPI
from emulator.telnyx import DEFAULT_ORGANIZATION, TelnyxAPI
from tests.common import (
    MONITOR_ALERTS,
    MONITOR_EVENTS,
    SERVERLESS_ENVIRONMENTS,
    SERVERLESS_LOGS,
    SERVERLESS_SERVICES,
    TASKROUTER_EVENTS,
    TASKROUTER_WORKSPACES,
    TELNYX_AUDIT_EVENTS,
    bookmark_values,
    iso,
    parse,
)
from tests.tap_runner import run_tap

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MELTANO = BIN / "meltano"
SCHEMA = "tap_events"
LOADERS = ("target-duckdb", "target-postgres")
#: How far back the runs start (`start_date`): the emulator's data is older and newer than this.
LOOKBACK = dt.timedelta(hours=5)
#: Settings of the tap that name credentials: never inherited from the developer's shell.
CREDENTIAL_VARIABLES = (
    "TAP_EVENTS_TWILIO_ACCOUNT_SID",
    "TAP_EVENTS_TWILIO_AUTH_TOKEN",
    "TAP_EVENTS_TWILIO_API_KEY_SID",
    "TAP_EVENTS_TWILIO_API_KEY_SECRET",
    "TAP_EVENTS_TELNYX_API_KEY",
)

Key = tuple[str, ...]
A = t.TypeVar("A")


# ---- the emulator's data -----------------------------------------------------------------


def small_emulator(**sizes: t.Any) -> Emulator:
    """An emulator whose records mostly fall in the last day (a few older, a few newer)."""
    defaults: dict[str, t.Any] = {
        "monitor_events": 160,
        "monitor_alerts": 60,
        "monitor_days": 1,
        "taskrouter_workspaces": 2,
        "taskrouter_events": 40,
        "taskrouter_days": 1,
        "serverless_services": 2,
        "serverless_environments": (2, 1),
        "serverless_logs": 20,
        "serverless_hours": 3,
        "telnyx_events": 80,
        "telnyx_days": 1,
    }
    return Emulator(**{**defaults, **sizes})


def start_date(now: dt.datetime | None = None) -> dt.datetime:
    """The `start_date` of a run: `LOOKBACK` before now, on a whole second."""
    return ((now or dt.datetime.now(dt.UTC)) - LOOKBACK).replace(microsecond=0)


def api(emulator: Emulator, kind: type[A]) -> A:
    """`emulator.<name>`, typed."""
    return next(each for each in emulator.apis if isinstance(each, kind))


@dataclass(frozen=True)
class Account:
    """Whose records a run reads: a Twilio account and/or a Telnyx organization."""

    twilio_account_sid: str | None = DEFAULT_ACCOUNT_SID
    telnyx_organization: str | None = DEFAULT_ORGANIZATION


DEFAULT_ACCOUNT = Account()


def _workspaces(emulator: Emulator, account: str) -> list[dict[str, t.Any]]:
    return list(api(emulator, TaskRouterAPI).workspaces.get(account, []))


def _taskrouter_events(emulator: Emulator, account: str) -> list[dict[str, t.Any]]:
    events = api(emulator, TaskRouterAPI).events.get(account, {})
    return [event for store in events.values() for event in store]


def _services(emulator: Emulator, account: str) -> list[dict[str, t.Any]]:
    return list(api(emulator, ServerlessAPI).services.get(account, []))


def _environments(emulator: Emulator, account: str) -> list[dict[str, t.Any]]:
    serverless = api(emulator, ServerlessAPI)
    return [
        environment
        for service in _services(emulator, account)
        for environment in serverless.environments_of(service["sid"], account_sid=account)
    ]


def _logs(emulator: Emulator, account: str) -> list[dict[str, t.Any]]:
    serverless = api(emulator, ServerlessAPI)
    return [
        log
        for environment in _environments(emulator, account)
        for log in serverless.logs_of(environment["sid"], account_sid=account)
    ]


# New records arriving between two runs, one per stream.


def _new_monitor_event(emulator: Emulator, account: str, when: dt.datetime) -> dict[str, t.Any]:
    [event] = api(emulator, MonitorAPI).add_events([when], account_sid=account)
    return event


def _new_monitor_alert(emulator: Emulator, account: str, when: dt.datetime) -> dict[str, t.Any]:
    [alert] = api(emulator, MonitorAPI).add_alerts([when], account_sid=account)
    return alert


def _new_workspace(emulator: Emulator, account: str, when: dt.datetime) -> dict[str, t.Any]:
    return api(emulator, TaskRouterAPI).add_workspace(account, events=0, days=1)


def _new_taskrouter_event(emulator: Emulator, account: str, when: dt.datetime) -> dict[str, t.Any]:
    workspace = _workspaces(emulator, account)[0]
    [event] = api(emulator, TaskRouterAPI).add_events(workspace["sid"], [when], account_sid=account)
    return event


def _new_service(emulator: Emulator, account: str, when: dt.datetime) -> dict[str, t.Any]:
    created = when - dt.timedelta(days=1)
    return api(emulator, ServerlessAPI).add_service(account, "service-new", created=created)


def _new_log(emulator: Emulator, account: str, when: dt.datetime) -> dict[str, t.Any]:
    environment = _environments(emulator, account)[0]
    serverless = api(emulator, ServerlessAPI)
    [log] = serverless.add_logs(environment["service_sid"], environment["sid"], [when], account_sid=account)
    return log


def _new_telnyx_event(emulator: Emulator, organization: str, when: dt.datetime) -> dict[str, t.Any]:
    [event] = api(emulator, TelnyxAPI).add_events([when], organization=organization)
    return event


@dataclass(frozen=True)
class EmulatedStream:
    """Where the emulator keeps one stream's records, and how one more arrives."""

    provider: t.Literal["twilio", "telnyx"]
    records: t.Callable[[Emulator, str], t.Iterable[dict[str, t.Any]]]
    add: t.Callable[[Emulator, str, dt.datetime], dict[str, t.Any]] | None = None


EMULATED: dict[str, EmulatedStream] = {
    MONITOR_EVENTS: EmulatedStream("twilio", lambda e, a: api(e, MonitorAPI).events.get(a, []), _new_monitor_event),
    MONITOR_ALERTS: EmulatedStream("twilio", lambda e, a: api(e, MonitorAPI).alerts.get(a, []), _new_monitor_alert),
    TASKROUTER_WORKSPACES: EmulatedStream("twilio", _workspaces, _new_workspace),
    TASKROUTER_EVENTS: EmulatedStream("twilio", _taskrouter_events, _new_taskrouter_event),
    SERVERLESS_SERVICES: EmulatedStream("twilio", _services, _new_service),
    SERVERLESS_ENVIRONMENTS: EmulatedStream("twilio", _environments),
    SERVERLESS_LOGS: EmulatedStream("twilio", _logs, _new_log),
    TELNYX_AUDIT_EVENTS: EmulatedStream("telnyx", lambda e, o: api(e, TelnyxAPI).events.get(o, []), _new_telnyx_event),
}


def owner(stream: str, account: Account) -> str | None:
    """The account SID or organization whose records `stream` holds in a run for `account`."""
    provider = EMULATED[stream].provider if stream in EMULATED else stream.split("_")[0]
    return account.twilio_account_sid if provider == "twilio" else account.telnyx_organization


# ---- the tap's catalog ---------------------------------------------------------------------


@dataclass(frozen=True)
class StreamInfo:
    name: str
    key_properties: tuple[str, ...]
    replication_key: str | None
    timestamp_columns: frozenset[str]


@functools.cache
def streams() -> dict[str, StreamInfo]:
    """Every stream the tap discovers with Twilio and Telnyx credentials (no request is made)."""
    config = {
        "twilio_account_sid": DEFAULT_ACCOUNT_SID,
        "twilio_auth_token": DEFAULT_AUTH_TOKEN,
        "telnyx_api_key": DEFAULT_TELNYX_API_KEY,
    }
    discovered = run_tap(config, extra=["--discover"])
    assert discovered.returncode == 0, discovered.stderr
    found = {}
    for entry in json.loads(discovered.stdout)["streams"]:
        top = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        replication_key = (top.get("valid-replication-keys") or [None])[0]
        columns = frozenset(
            name for name, schema in entry["schema"]["properties"].items() if schema.get("format") == "date-time"
        )
        found[entry["tap_stream_id"]] = StreamInfo(
            entry["tap_stream_id"], tuple(entry["key_properties"]), replication_key, columns
        )
    return found


def streams_for(account: Account) -> dict[str, StreamInfo]:
    """The streams a run for `account` reads (a provider without credentials is skipped)."""
    return {name: info for name, info in streams().items() if owner(name, account)}


# ---- what the warehouse should hold -------------------------------------------------------


def key_of(record: dict[str, t.Any], info: StreamInfo) -> Key:
    return tuple(str(record[column]) for column in info.key_properties)


def emulated_records(
    emulator: Emulator, stream: str, since: dt.datetime, account: Account = DEFAULT_ACCOUNT
) -> list[dict[str, t.Any]]:
    """The emulator's records of `stream` a run from `since` reads: every record of a full-table
    stream, and those of an incremental stream whose replication key is at or after `since`."""
    info = streams()[stream]
    holder = owner(stream, account)
    assert holder is not None
    records = list(EMULATED[stream].records(emulator, holder))
    if info.replication_key is None:
        return records
    return [record for record in records if parse(record[info.replication_key]) >= since]


def expected_keys(emulator: Emulator, since: dt.datetime, account: Account = DEFAULT_ACCOUNT) -> dict[str, set[Key]]:
    """Primary keys per stream: from the emulator's data where the stream is in `EMULATED`,
    from the tap's own output (same emulator, same settings) for any other stream."""
    chosen = streams_for(account)
    expected = {
        name: {key_of(record, info) for record in emulated_records(emulator, name, since, account)}
        for name, info in chosen.items()
        if name in EMULATED
    }
    others = [name for name in chosen if name not in EMULATED]
    if others:
        expected.update(tap_keys(emulator, since, account, others))
    return expected


def tap_keys(emulator: Emulator, since: dt.datetime, account: Account, names: list[str]) -> dict[str, set[Key]]:
    from tests.tap_runner import catalog_selecting

    config = emulator.tap_config(
        start_date=iso(since),
        twilio_account_sid=account.twilio_account_sid,
        twilio_auth_token=emulator.twilio_accounts.get(account.twilio_account_sid or ""),
        telnyx_api_key=next(
            (k for k, o in emulator.telnyx_api_keys.items() if o == account.telnyx_organization),
            None,
        ),
    )
    run = run_tap(config, catalog=catalog_selecting(config, names))
    assert run.returncode == 0, run.stderr
    return {name: {key_of(r, streams()[name]) for r in run.records[name]} for name in names}


def add_one_record_per_stream(
    emulator: Emulator, when: dt.datetime, account: Account = DEFAULT_ACCOUNT
) -> dict[str, Key]:
    """One new record in every stream that can grow, at `when`: its primary key by stream."""
    added = {}
    for name, info in streams_for(account).items():
        source = EMULATED.get(name)
        holder = owner(name, account)
        if source and source.add and holder:
            added[name] = key_of(source.add(emulator, holder, when), info)
    return added


# ---- Meltano -------------------------------------------------------------------------------


@dataclass
class MeltanoRun:
    returncode: int
    output: str

    @property
    def record_counts(self) -> dict[str, int]:
        """Records the tap wrote, per stream, from its `record_count` metrics: a run with
        `meltano --log-format=json` (the tap declares `structured-logging`, and Meltano's console
        format shows a metric without its stream). Targets built on the Singer SDK log metrics
        too: only the tap's lines count."""
        counts: dict[str, int] = defaultdict(int)
        for line in self.output.splitlines():
            if not line.startswith("{") or '"metric_info"' not in line:
                continue
            entry = json.loads(line)
            metric = entry["metric_info"]
            if entry.get("string_id") == "tap-events" and metric.get("metric") == "record_count":
                counts[metric["tags"]["stream"]] += int(metric["value"])
        return dict(counts)


@contextlib.contextmanager
def project_lock(name: str) -> t.Iterator[None]:
    """Serialises set-up steps (plugin and Airflow installs) between test runs of this checkout."""
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"tap-events-{digest}-{name}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def one_meltano_run_at_a_time() -> contextlib.AbstractContextManager[None]:
    """Meltano writes each run's catalog, config and state files in the project's `.meltano/run/`:
    two runs at once (pytest-xdist workers) would read each other's half-written files."""
    return project_lock("meltano-run")


@functools.cache
def install_plugins() -> None:
    """`meltano install` once per test session (quick when the plugins' venvs are current); never
    while another worker's Meltano runs with the plugins it would rebuild."""
    with one_meltano_run_at_a_time():
        _install_plugins()


def _install_plugins() -> None:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(MELTANO), "install"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def base_environment() -> dict[str, str]:
    """The caller's environment without any tap, target or Meltano setting of its own."""
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith(("TAP_EVENTS_", "TARGET_", "MELTANO_"))
    }
    inherited["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return inherited


def meltano_env(
    emulator: Emulator,
    home: Path,
    since: dt.datetime,
    *,
    database_uri: str | None = None,
    **settings: str,
) -> dict[str, str]:
    """Environment of a `meltano` run against `emulator`, with its own system database
    (where Meltano keeps state) and warehouse file in `home`.

    `settings` are more environment variables (e.g. TARGET_POSTGRES_PORT)."""
    environment = base_environment()
    environment.update(
        MELTANO_ENVIRONMENT="emulator",
        MELTANO_DATABASE_URI=database_uri or f"sqlite:///{home / 'meltano.db'}",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        TAP_EVENTS_START_DATE=iso(since),
        TAP_EVENTS_TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TAP_EVENTS_TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
        TAP_EVENTS_TELNYX_API_KEY=DEFAULT_TELNYX_API_KEY,
        TARGET_DUCKDB_FILEPATH=str(home / "warehouse.duckdb"),
        TARGET_JSONL_DESTINATION_PATH=str(home),
    )
    for setting in ("TWILIO_MONITOR", "TWILIO_TASKROUTER", "TWILIO_SERVERLESS", "TELNYX"):
        environment[f"TAP_EVENTS_{setting}_BASE_URL"] = emulator.base_url
    environment.update(settings)
    return environment


def meltano(*arguments: str, env: dict[str, str], timeout: float = 300, expect_success: bool = True) -> MeltanoRun:
    """Runs `meltano ARGUMENTS` in the project; an unexpected failure shows the end of its log."""
    with one_meltano_run_at_a_time():
        result = subprocess.run(
            [str(MELTANO), *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    run = MeltanoRun(result.returncode, result.stdout + result.stderr)
    if expect_success:
        assert run.returncode == 0, f"meltano {' '.join(arguments)} failed:\n{run.output[-6000:]}"
    return run


def meltano_state(state_id: str, env: dict[str, str]) -> dict[str, t.Any]:
    """`meltano state get STATE_ID`: the Singer state Meltano keeps for a pipeline."""
    run = meltano("state", "get", state_id, env=env)
    document = run.output[run.output.index("{") : run.output.rindex("}") + 1]
    return t.cast(dict[str, t.Any], json.loads(document)["singer_state"])


def bookmark(state: dict[str, t.Any], stream: str) -> dt.datetime | None:
    """The latest replication value of `stream` in a Singer state, over all its partitions."""
    return max((parse(value) for value in bookmark_values(state, stream)), default=None)
