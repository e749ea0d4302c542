"""Run one command and write its wall time, CPU seconds and peak RSS to a JSON file.

    python -S benchmarks/measure.py RESULT.json COMMAND [ARG ...]

Standard library only and started with `-S`, so this wrapper stays a few MB: on Linux a child's
peak RSS (`ru_maxrss`) starts at least at the RSS its parent had when it forked, so measuring
from the benchmark runner itself (which holds the emulator's answers and the checked ids)
would inflate every figure. The command inherits standard input, output and error.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    result_path, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the measured command
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    peak_rss_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    result = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": peak_rss_mb,
        "returncode": os.waitstatus_to_exitcode(status),
    }
    with open(result_path, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
