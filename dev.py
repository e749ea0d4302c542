"""Set-up and the two everyday jobs, for a machine that has only Python 3.11+.

    python3 dev.py demo   # set up, then run the pipeline end to end against the local emulator
    python3 dev.py test   # set up, then lint, type-check and run the test suite

`python3 dev.py test --fast` runs only the first two test tiers (tests/README.md), in a minute.

Set-up is a virtual environment in .venv with the tap and its development tools, made once and
refreshed when pyproject.toml changes. Only the standard library is used before it exists.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
MARKER = VENV / ".installed-from"


def run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=cwd, check=True, env=env)


def set_up() -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if MARKER.exists() and MARKER.read_text() == digest:
        return
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    MARKER.write_text(digest)


def tool_env(bin_dir: Path = BIN) -> dict[str, str]:
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: What the demo gives SINGER_SDK_LOG_CONFIG: METRIC points to output/metrics.jsonl, not the console.
DEMO_LOG_CONFIG = ROOT / "config" / "metrics-to-file.yml"
#: What the demo gives LOGGING_CONF_FILE, read by target-duckdb (pipelinewise style) alone: its routine
#: INFO lines ("Loading N rows into ...", "Table ... exists") off the console, its warnings kept.
DEMO_LOADER_LOG_CONFIG = ROOT / "config" / "loader-logging.conf"


def demo() -> None:
    """Set-up of the Meltano plugins, then the demo's pipeline."""
    run("meltano", "--environment=emulator", "install", env=tool_env())
    demo_pipeline()


def demo_pipeline(python: Path = PYTHON, workdir: Path = ROOT) -> None:
    """Emulator -> tap-events -> target-duckdb -> dbt through Meltano, then a summary of the warehouse,
    then the OCSF events exported (output/ocsf/<class>.jsonl, output/security-lake/).

    Everything it writes goes to `workdir`/output: the warehouse, the exports, and the SDK's METRIC
    lines (metrics.jsonl), kept off the console so that Meltano's and the tap's own lines stand out."""
    output = workdir / "output"
    output.mkdir(exist_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen([str(python), "-m", "emulator", "--port", str(port)], cwd=ROOT)
    env = tool_env(python.parent)
    for setting in ("TWILIO_MONITOR", "TWILIO_TASKROUTER", "TWILIO_SERVERLESS", "TELNYX"):
        env[f"TAP_EVENTS_{setting}_BASE_URL"] = base_url
    env.update(
        MELTANO_PROJECT_ROOT=str(ROOT),
        SINGER_SDK_LOG_CONFIG=str(DEMO_LOG_CONFIG),
        LOGGING_CONF_FILE=str(DEMO_LOADER_LOG_CONFIG),
        TARGET_DUCKDB_FILEPATH=str(output / "warehouse.duckdb"),
        DBT_DUCKDB_PATH=str(output / "warehouse.duckdb"),
        DBT_QUIET="true",  # dbt prints errors only: the summary shows what it built
    )
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        # The load, then the audit trail in SQL (transform/): models, data tests and unit tests.
        run(
            "meltano",
            "--environment=emulator",
            "run",
            "tap-events",
            "target-duckdb",
            "dbt-duckdb:build",
            env=env,
            cwd=workdir,
        )
    finally:
        emulator.terminate()
        emulator.wait()
    run(python, "-m", "scripts.warehouse_summary", output / "warehouse.duckdb", env=env)
    # Into a SIEM (README): the OCSF events as JSON lines and in Amazon Security Lake's layout.
    run(
        python,
        "-m",
        "scripts.export_ocsf",
        "--duckdb",
        output / "warehouse.duckdb",
        "--jsonl-dir",
        output / "ocsf",
        "--security-lake-dir",
        output / "security-lake",
        "--ledger-dir",
        output / "ocsf-export-ledger",
        env=env,
    )


#: The first two tiers of tests/README.md: no subprocess, no pipeline.
FAST_TIERS = ("tests/unit", "tests/tap")
#: Workers for them: they wait (the APIs' rate limits, retries, the emulator) far more than they
#: compute, about 30 CPU seconds in all, so more workers than CPUs.
FAST_WORKERS = 6


def test() -> None:
    env = tool_env()
    arguments = sys.argv[2:]
    fast = "--fast" in arguments
    if fast:
        arguments = [argument for argument in arguments if argument != "--fast"]
    else:
        run(PYTHON, "-m", "ruff", "check", ".", env=env)
        run(PYTHON, "-m", "ruff", "format", "--check", ".", env=env)
        run(PYTHON, "-m", "mypy", "tap_events", "emulator", "tests", "benchmarks", "scripts", env=env)
    if not any(argument.startswith(("-n", "--numprocesses")) for argument in arguments):
        # One worker per CPU (at most 4): the tests wait on subprocesses and the emulator more
        # than they compute. Meltano runs take turns (`meltano_helpers.one_meltano_run_at_a_time`).
        workers = FAST_WORKERS if fast else min(4, os.cpu_count() or 1)
        arguments = ["-n", str(workers), *arguments]
    if not any(argument.startswith("--dist") for argument in arguments):
        # A file whose tests share a module or class fixture stays on one worker (tests/conftest.py).
        arguments = ["--dist", "loadgroup", *arguments]
    run(PYTHON, "-m", "pytest", *arguments, *(FAST_TIERS if fast else ()), env=env)


def main() -> None:
    jobs = {"demo": demo, "test": test, "setup": lambda: None}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        sys.exit(f"usage: python3 {Path(__file__).name} {{{'|'.join(jobs)}}} [pytest arguments]")
    set_up()
    try:
        jobs[sys.argv[1]]()
    except subprocess.CalledProcessError as failed:
        sys.exit(failed.returncode)


if __name__ == "__main__":
    main()
