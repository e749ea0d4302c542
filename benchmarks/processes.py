"""The processes a benchmark runs and how they are measured: the emulator in its own process, a
command under `measure.py` (wall, CPU, peak RSS), the tap's config and catalog.

Shared by `benchmarks/run.py` (one scenario, variants side by side) and `benchmarks/targets.py`
(the targets of #18); neither imports the other's internals.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import typing as t
from pathlib import Path

import orjson

from emulator.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

ROOT = Path(__file__).resolve().parent.parent
MEASURE = Path(__file__).resolve().parent / "measure.py"
PYTHON = sys.executable


@dataclasses.dataclass
class Measurement:
    wall: float
    cpu: float
    peak_rss_mb: float
    emulator_cpu: float | None
    returncode: int
    #: With the output read back (`measure(..., stream=...)`): RECORD lines and distinct sids.
    records: int | None = None
    distinct: int | None = None


class EmulatorProcess:
    """`benchmarks.emulator_process` as a subprocess, stopped when the block ends."""

    def __init__(
        self,
        events: int,
        days: int,
        latency_ms: float,
        timeout: float,
        *,
        scenario: str = "monitor-events",
        twilio_concurrency_limit: int | None = None,
    ) -> None:
        command = [
            PYTHON,
            "-m",
            "benchmarks.emulator_process",
            "--scenario",
            scenario,
            "--events",
            str(events),
            "--days",
            str(days),
            "--latency-ms",
            str(latency_ms),
        ]
        if twilio_concurrency_limit is not None:
            command += ["--twilio-concurrency-limit", str(twilio_concurrency_limit)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        line = read_line(self.process, timeout)
        if not line:
            self.stop()
            raise SystemExit(f"the emulator did not start within {timeout:.0f} s")
        ready = json.loads(line)
        self.base_url: str = ready["base_url"]
        self.pid: int = ready["pid"]
        self.stream: str = ready["stream"]
        self.events: int = ready["events"]
        self.now = dt.datetime.fromisoformat(ready["now"])
        #: The busy day's midnight (UTC) of a busy-day scenario.
        self.day = dt.datetime.fromisoformat(ready["day"]) if ready["day"] else None
        self.setup_seconds: float = ready["setup_seconds"]

    def stats(self) -> dict[str, t.Any]:
        """What the emulator answered so far: `answers` by HTTP status, Twilio concurrency refusals,
        the most Twilio requests in flight at once."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"stats\n")
        self.process.stdin.flush()
        line = read_line(self.process, 30)
        if not line:
            raise SystemExit("the emulator did not answer `stats` within 30 s")
        return t.cast("dict[str, t.Any]", json.loads(line))

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def child_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The first line the process prints, or b"" if none within `timeout`."""
    result: list[bytes] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else b""


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a running process (all its threads), from /proc; None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    command: list[str],
    *,
    stderr_path: Path,
    timeout: float,
    emulator: EmulatorProcess,
    stream: str | None = None,
    exit_on_failure: bool = True,
) -> Measurement:
    """Run `command` under benchmarks/measure.py (see why there), its output to /dev/null, or with
    `stream`, read back here to count its RECORD lines and distinct sids (for latency-bound runs,
    where reading them costs the run nothing). A failed command ends the benchmark, unless
    `exit_on_failure` is False (its `returncode` then tells)."""
    result_path = stderr_path.with_suffix(".result.json")
    emulator_before = emulator.cpu_seconds()
    counted: tuple[int, int] | None = None
    with open(os.devnull, "wb") as devnull, open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [PYTHON, "-S", str(MEASURE), str(result_path), *command],
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=devnull if stream is None else subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,  # one process group: a timeout kills the command too
        )
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            if stream is not None:
                assert process.stdout is not None
                counted = read_records(process.stdout, stream)
                process.stdout.close()
            process.wait()
        finally:
            timer.cancel()
        if timed_out.is_set():
            sys.exit(f"{' '.join(command)} did not finish within {timeout:.0f} s")
    emulator_after = emulator.cpu_seconds()
    if process.returncode != 0 or not result_path.exists():
        fail([PYTHON, "-S", str(MEASURE), *command], process.returncode, stderr_path)
    result = json.loads(result_path.read_text())
    if exit_on_failure and result["returncode"] != 0:
        fail(command, result["returncode"], stderr_path)
    emulator_cpu = (
        emulator_after - emulator_before if emulator_before is not None and emulator_after is not None else None
    )
    return Measurement(
        wall=result["wall"],
        cpu=result["cpu"],
        peak_rss_mb=result["peak_rss_mb"],
        emulator_cpu=emulator_cpu,
        returncode=result["returncode"],
        records=counted[0] if counted else None,
        distinct=counted[1] if counted else None,
    )


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def count_records(command: list[str], stream: str, *, stderr_path: Path, timeout: float) -> tuple[int, int]:
    """Run once with the output read back: (RECORD lines of `stream`, distinct primary keys)."""
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        timer = threading.Timer(timeout, _kill, (process.pid,))
        timer.start()
        assert process.stdout is not None
        try:
            records, distinct = read_records(process.stdout, stream)
            process.wait()
        finally:
            timer.cancel()
            process.stdout.close()
    if process.returncode != 0:
        fail(command, process.returncode, stderr_path)
    return records, distinct


def read_records(output: t.IO[bytes], stream: str) -> tuple[int, int]:
    """(RECORD lines of `stream`, distinct sids) of a Singer output, read to its end."""
    records = 0
    keys: set[str] = set()
    for line in output:
        message = orjson.loads(line)
        if message.get("type") == "RECORD" and message.get("stream") == stream:
            records += 1
            keys.add(message["record"]["sid"])
    return records, len(keys)


def fail(command: list[str], returncode: int, stderr_path: Path) -> t.NoReturn:
    tail = stderr_path.read_text(errors="replace").splitlines()[-15:]
    sys.exit(f"{' '.join(command)} exited with {returncode}:\n" + "\n".join(tail))


def tap_command(source: Path | None) -> list[str]:
    """`python -m tap_events`, or the same from another copy of the package (--tap-before)."""
    if source is None:
        return [PYTHON, "-m", "tap_events"]
    program = f"import sys; sys.path.insert(0, {str(source)!r}); from tap_events.tap import TapEvents; TapEvents.cli()"
    return [PYTHON, "-c", program]


def tap_catalog(config_path: Path, stream: str, stderr_path: Path, source: Path | None = None) -> dict[str, t.Any]:
    """The tap's own discovered catalog with only `stream` selected."""
    command = [*tap_command(source), "--config", str(config_path), "--discover"]
    with open(stderr_path, "wb") as stderr:
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        fail(command, result.returncode, stderr_path)
    return selecting(json.loads(result.stdout), stream)


def selecting(catalog: dict[str, t.Any], stream: str) -> dict[str, t.Any]:
    """The catalog with only `stream` selected (changed in place)."""
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


def tap_config(emulator: EmulatorProcess, **settings: t.Any) -> dict[str, t.Any]:
    """Twilio settings pointing every API at the emulator (Telnyx has no key: skipped), and `settings`."""
    return {
        "twilio_account_sid": DEFAULT_ACCOUNT_SID,
        "twilio_auth_token": DEFAULT_AUTH_TOKEN,
        "twilio_monitor_base_url": emulator.base_url,
        "twilio_taskrouter_base_url": emulator.base_url,
        "twilio_serverless_base_url": emulator.base_url,
        "telnyx_base_url": emulator.base_url,
        **settings,
    }
