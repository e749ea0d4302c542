"""`structured-logging`: given the logging configuration Meltano writes for a plugin with this
capability (the SDK's `StructuredFormatter` on stderr, through `SINGER_SDK_LOG_CONFIG`), every line
the tap writes to stderr is one JSON object that Meltano's parser reads: its own lines, the SDK's
metrics and a failure's one-paragraph message alike."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from tests.common import iso
from tests.meltano_helpers import small_emulator, start_date
from tests.tap_runner import TapRun, run_tap_process

#: What Meltano's `SingerSDKLogParser` requires of a line to read it as structured.
MELTANO_REQUIRED_FIELDS = {"level", "pid", "logger_name", "ts", "thread_name", "app_name", "message"}


def structured_run(tmp_path: Path, **settings: t.Any) -> tuple[TapRun, list[dict[str, t.Any]]]:
    """A run with Meltano's structured logging configuration, and its stderr lines parsed."""
    config = tmp_path / "logging.json"  # JSON is YAML: what Meltano writes for the SDK
    config.write_text(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {"singer_formatter": {"()": "singer_sdk.logging.StructuredFormatter"}},
                "handlers": {
                    "console": {
                        "class": "logging.StreamHandler",
                        "formatter": "singer_formatter",
                        "stream": "ext://sys.stderr",
                    }
                },
                "root": {"handlers": ["console"], "level": "INFO"},
            }
        )
    )
    with small_emulator() as emulator:
        run = run_tap_process(
            emulator.tap_config(start_date=iso(start_date()), **settings),
            env={"SINGER_SDK_LOG_CONFIG": str(config)},
        )
    lines = [json.loads(line) for line in run.stderr.splitlines() if line.strip()]
    return run, lines


def test_every_line_of_a_run_is_a_json_object_meltano_reads(tmp_path):
    run, lines = structured_run(tmp_path)

    assert run.returncode == 0, run.stderr
    assert lines and all(set(line) >= MELTANO_REQUIRED_FIELDS for line in lines)
    assert any(line["logger_name"] == "tap-events" for line in lines)


def test_metrics_arrive_as_structured_points(tmp_path):
    run, lines = structured_run(tmp_path)

    counted: dict[str, int] = {}
    for line in lines:
        metric = line.get("metric_info") or {}
        if metric.get("metric") == "record_count":
            counted[metric["tags"]["stream"]] = counted.get(metric["tags"]["stream"], 0) + metric["value"]
    assert counted == {stream: len(records) for stream, records in run.records.items()}


def test_a_failure_is_one_structured_error_line(tmp_path):
    run, lines = structured_run(tmp_path, twilio_auth_token="wrong-token", telnyx_api_key=None)

    assert run.returncode != 0
    errors = [line for line in lines if line["level"] == "error" and "authentication failed" in line["message"]]
    assert len(errors) == 1 and "401" in errors[0]["message"]
