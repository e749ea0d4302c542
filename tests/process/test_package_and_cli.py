"""The package installs from its wheel with its schemas, and the standard CLI options work."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tap_events.settings import SETTINGS
from tests.common import MONITOR_EVENTS
from tests.tap_runner import run_tap_process

ROOT = Path(__file__).resolve().parents[2]
STREAM_NAMES = {path.stem for path in (ROOT / "tap_events" / "schemas").glob("*.json")}


def test_wheel_ships_the_schemas_and_discovers_from_them(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp_path / "dist").glob("tap_events-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(name).stem for name in archive.namelist() if name.startswith("tap_events/schemas/")}
    assert shipped == STREAM_NAMES

    # Install the wheel alone and import it ahead of the checkout: discovery must use its schemas.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import tap_events.client as c; print(c.__file__, c.SCHEMAS.dir_path)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(target) in where.split()[0] and str(target) in where.split()[1]
    discovered = subprocess.run(
        [sys.executable, "-m", "tap_events", "--discover"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert {entry["tap_stream_id"] for entry in json.loads(discovered.stdout)["streams"]} == STREAM_NAMES


def test_about_lists_every_setting_in_json_and_markdown():
    about = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tap_events", "--about", "--format=json"], capture_output=True, text=True, check=True
        ).stdout
    )
    markdown = subprocess.run(
        [sys.executable, "-m", "tap_events", "--about", "--format=markdown"], capture_output=True, text=True, check=True
    ).stdout

    settings = set(about["settings"]["properties"])
    assert {"twilio_account_sid", "twilio_auth_token", "telnyx_api_key", "start_date", "page_size"} <= settings
    assert all(f"| {name}" in markdown for name in settings)


def test_config_from_environment_variables(emulator):
    env = {f"TAP_EVENTS_{key.upper()}": str(value) for key, value in emulator.tap_config(telnyx_api_key=None).items()}

    env["TAP_EVENTS_START_DATE"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()

    run = run_tap_process({}, extra=["--config", "ENV"], env=env, timeout=120)

    assert run.returncode == 0, run.stderr
    assert run.records[MONITOR_EVENTS]
    assert all(record["event_date"] >= env["TAP_EVENTS_START_DATE"][:10] for record in run.records[MONITOR_EVENTS])


def test_meltano_settings_match_the_tap_settings():
    import yaml

    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text())
    extractor = next(p for p in meltano["plugins"]["extractors"] if p["name"] == "tap-events")
    properties = SETTINGS.to_dict()["properties"]
    sdk_settings = {"batch_config"}  # the SDK's own, declared so that Meltano passes it on

    assert {s["name"] for s in extractor["settings"]} == set(properties) | sdk_settings
    for setting in extractor["settings"]:
        if setting["name"] in sdk_settings:
            continue
        assert setting.get("sensitive", False) == bool(properties[setting["name"]].get("secret")), setting["name"]
        assert setting["label"] and setting["description"] and setting["kind"]


def test_meltano_capabilities_are_every_capability_the_tap_reports():
    """Meltano users get every capability without editing meltano.yml; each is tested where it works."""
    import yaml

    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text())
    declared = next(p for p in meltano["plugins"]["extractors"] if p["name"] == "tap-events")["capabilities"]
    about = run_tap_process({}, extra=["--about", "--format=json"])
    reported = set(json.loads(about.stdout)["capabilities"])

    assert len(declared) == len(set(declared))
    assert set(declared) == reported


def test_readme_settings_table_is_the_about_output():
    from scripts.readme_settings import END, START, settings_table

    readme = (ROOT / "README.md").read_text()
    assert readme.split(START)[1].split(END)[0].strip() == settings_table()


def test_config_from_a_dotenv_file_in_the_working_directory(emulator, tmp_path):
    config = emulator.tap_config(
        telnyx_api_key=None, start_date=(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    )
    (tmp_path / ".env").write_text("".join(f"TAP_EVENTS_{key.upper()}={value}\n" for key, value in config.items()))
    clean_env = {key: value for key, value in os.environ.items() if not key.startswith("TAP_EVENTS_")}

    run = subprocess.run(
        [sys.executable, "-m", "tap_events", "--config", "ENV"],
        cwd=tmp_path,
        env={**clean_env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    assert '"stream":"twilio_monitor_events"' in run.stdout


def test_connection_test_option(emulator):
    run = run_tap_process(emulator.tap_config(), extra=["--test"])

    assert run.returncode == 0, run.stderr
    assert emulator.seen, "--test makes requests"
