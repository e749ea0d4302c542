"""The fast RECORD path (`output.EventsWriter`) and the SDK's stream maps: without a map every
stream writes through the fast path; with the personal-data recipes of meltano.yml only the mapped
streams take the SDK's path, and every stream's records are exactly those of a run without maps,
transformed as the recipe says."""

from __future__ import annotations

import hashlib
import typing as t

import pytest
import yaml

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_TELNYX_API_KEY
from tap_events.client import TapEventsStream
from tap_events.tap import TapEvents
from tests.common import iso
from tests.meltano_helpers import ROOT, small_emulator, start_date, streams
from tests.tap_runner import TapRun, run_tap

HASH_SEED = "a-test-seed-that-is-long-enough-0123456789"


def recipe_config(recipe: str) -> dict[str, t.Any]:
    """The `stream_maps` (and `stream_map_config`) of a recipe in meltano.yml."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    config = next(p for p in project["plugins"]["extractors"] if p["name"] == recipe)["config"]
    config = {key: value for key, value in config.items() if key in ("stream_maps", "stream_map_config")}
    if "stream_map_config" in config:
        config["stream_map_config"] = {"hash_seed": HASH_SEED}
    return config


def fast_path_streams(config: dict[str, t.Any]) -> set[str]:
    credentials = {
        "twilio_account_sid": DEFAULT_ACCOUNT_SID,
        "twilio_auth_token": DEFAULT_AUTH_TOKEN,
        "telnyx_api_key": DEFAULT_TELNYX_API_KEY,
    }
    tap = TapEvents(config={**credentials, **config})
    return {
        name
        for name, stream in tap.streams.items()
        if isinstance(stream, TapEventsStream) and stream._record_writer is not None
    }


def by_key(run: TapRun, stream: str) -> dict[tuple[str, ...], dict[str, t.Any]]:
    keys = streams()[stream].key_properties
    return {tuple(record[key] for key in keys): record for record in run.records[stream]}


def test_without_stream_maps_every_stream_writes_through_the_fast_path():
    assert fast_path_streams({}) == set(streams())


@pytest.mark.parametrize("recipe", ["tap-events--pii-hashed", "tap-events--pii-dropped"])
def test_with_a_recipe_only_the_mapped_streams_leave_the_fast_path(recipe):
    mapped = set(recipe_config(recipe)["stream_maps"])

    assert fast_path_streams(recipe_config(recipe)) == set(streams()) - mapped


def hashed(value: t.Any) -> t.Any:
    return hashlib.sha256((HASH_SEED + value).encode()).hexdigest() if value else None


@pytest.mark.parametrize("recipe", ["tap-events--pii-hashed", "tap-events--pii-dropped"])
def test_records_with_a_recipe_are_those_without_it_transformed(recipe):
    maps = recipe_config(recipe)
    with small_emulator() as emulator:
        config = emulator.tap_config(start_date=iso(start_date()))
        plain = run_tap(config)
        mapped = run_tap({**config, **maps})

    assert plain.returncode == 0 and mapped.returncode == 0, plain.stderr + mapped.stderr
    assert set(mapped.records) == set(plain.records)
    for stream in plain.records:
        fields = maps["stream_maps"].get(stream, {})
        expected = {}
        for key, record in by_key(plain, stream).items():
            expected[key] = {
                name: hashed(value) if name in fields else value
                for name, value in record.items()
                if fields.get(name) != "__NULL__"
            }
        assert by_key(mapped, stream) == expected, stream
