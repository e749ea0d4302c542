"""The personal-data recipes of meltano.yml (`tap-events--pii-hashed`, `tap-events--pii-dropped`),
each run with `meltano run RECIPE target-duckdb`: the warehouse holds no source IP address, phone
number or free text in clear, and still every record.

The recipes are the SDK's stream maps, configured in meltano.yml; README "Personal data"."""

from __future__ import annotations

import datetime as dt
import hashlib
import typing as t
from dataclasses import dataclass

import pytest

from emulator import Emulator
from emulator.telnyx import TelnyxAPI
from tests.common import MONITOR_ALERTS, MONITOR_EVENTS, SERVERLESS_LOGS, TASKROUTER_EVENTS, TELNYX_AUDIT_EVENTS
from tests.meltano_helpers import (
    DEFAULT_ACCOUNT,
    Key,
    api,
    emulated_records,
    expected_keys,
    install_plugins,
    meltano,
    meltano_env,
    small_emulator,
    start_date,
    streams_for,
)
from tests.warehouses import DuckDBWarehouse

PHONE_NUMBERS = ("+14155550123", "+442071838750", "+4930901820")
HASH_SEED = "a-test-seed-that-is-long-enough-0123456789"
#: What each recipe covers: stream -> fields that may hold personal data.
PERSONAL_FIELDS = {
    MONITOR_EVENTS: ("source_ip_address", "description"),
    TASKROUTER_EVENTS: ("source_ip_address", "description"),
    MONITOR_ALERTS: ("alert_text",),
    SERVERLESS_LOGS: ("message",),
    TELNYX_AUDIT_EVENTS: ("alternate_resource_id",),
}
#: Fields the emulator fills, so that a recipe that missed one would be caught.
FILLED = {
    (MONITOR_EVENTS, "source_ip_address"),
    (MONITOR_EVENTS, "description"),
    (TASKROUTER_EVENTS, "description"),
    (MONITOR_ALERTS, "alert_text"),
    (SERVERLESS_LOGS, "message"),
    (TELNYX_AUDIT_EVENTS, "alternate_resource_id"),
}


@dataclass
class RecipeRun:
    recipe: str
    emulator: Emulator
    since: dt.datetime
    warehouse: DuckDBWarehouse

    def clear_values(self, stream: str, field: str) -> set[str]:
        return clear_values(self.emulator, self.since, {stream: (field,)})


def clear_values(emulator: Emulator, since: dt.datetime, fields: dict[str, tuple[str, ...]]) -> set[str]:
    """The values of these fields in the records a run from `since` reads."""
    return {
        record[field]
        for stream, names in fields.items()
        for record in emulated_records(emulator, stream, since)
        for field in names
        if record.get(field)
    }


def leaks(warehouse: DuckDBWarehouse, clear: set[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of the warehouse that holds one of the clear values."""
    if not warehouse.path.exists():
        return []
    return [
        (table, column, text)
        for table in warehouse.tables()
        for column in warehouse.column_types(table)
        for text in map(str, warehouse.values(table, column))
        if any(value in text for value in clear)
    ]


def run_recipe(recipe: str, tmp_path_factory: pytest.TempPathFactory) -> RecipeRun:
    install_plugins()
    home = tmp_path_factory.mktemp(recipe)
    since = start_date()
    with small_emulator() as emulator:
        for minutes, number in enumerate(PHONE_NUMBERS):  # the data set has few, none lately
            api(emulator, TelnyxAPI).add_events(
                [dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30 + minutes)], alternate_resource_id=number
            )
        env = meltano_env(emulator, home, since, PII_HASH_SEED=HASH_SEED)
        meltano("run", recipe, "target-duckdb", env=env)
    return RecipeRun(recipe, emulator, since, DuckDBWarehouse(home / "warehouse.duckdb"))


@pytest.fixture(scope="module")
def hashed(tmp_path_factory: pytest.TempPathFactory) -> RecipeRun:
    return run_recipe("tap-events--pii-hashed", tmp_path_factory)


@pytest.fixture(scope="module")
def dropped(tmp_path_factory: pytest.TempPathFactory) -> RecipeRun:
    return run_recipe("tap-events--pii-dropped", tmp_path_factory)


@pytest.fixture(params=["hashed", "dropped"])
def recipe_run(request: pytest.FixtureRequest) -> RecipeRun:
    return t.cast(RecipeRun, request.getfixturevalue(request.param))


def test_the_emulator_fills_every_field_the_recipes_cover(recipe_run):
    for stream, field in FILLED:
        assert recipe_run.clear_values(stream, field), (stream, field)


def test_the_warehouse_holds_no_clear_value(recipe_run):
    clear = clear_values(recipe_run.emulator, recipe_run.since, PERSONAL_FIELDS)
    assert clear
    assert leaks(recipe_run.warehouse, clear) == []


def test_every_record_is_still_loaded(recipe_run):
    expected = expected_keys(recipe_run.emulator, recipe_run.since, DEFAULT_ACCOUNT)
    streams = streams_for(DEFAULT_ACCOUNT)
    loaded: dict[str, set[Key]] = {
        name: set(recipe_run.warehouse.keys(name, streams[name].key_properties)) for name in expected
    }
    assert loaded == expected


def test_hashed_values_are_the_seeded_sha256_of_the_clear_values(hashed):
    """The same value always has the same hash: counting and joining on it still work."""
    for stream, field in FILLED:
        values = {value for value in hashed.warehouse.values(stream, field) if value is not None}
        clear = hashed.clear_values(stream, field)
        assert values == {hashlib.sha256((HASH_SEED + value).encode()).hexdigest() for value in clear}, field


def test_without_a_seed_the_hashed_recipe_fails_before_loading_a_clear_value(tmp_path):
    """An unseeded hash of an IPv4 address or a phone number is reversed by trying them all."""
    install_plugins()
    since = start_date()
    with small_emulator() as emulator:
        env = meltano_env(emulator, tmp_path, since)
        env.pop("PII_HASH_SEED", None)
        result = meltano("run", "tap-events--pii-hashed", "target-duckdb", env=env, expect_success=False)
    assert result.returncode != 0
    assert "hash_seed" in result.output
    clear = clear_values(emulator, since, PERSONAL_FIELDS)
    assert leaks(DuckDBWarehouse(tmp_path / "warehouse.duckdb"), clear) == []


def test_dropped_fields_are_no_columns_at_all(dropped):
    for stream, fields in PERSONAL_FIELDS.items():
        assert not set(fields) & set(dropped.warehouse.column_types(stream)), stream
