"""A small real Singer target, run as its own process: it appends each RECORD to a JSONL file and,
as targets do, echoes each STATE on stdout once the records before it are stored. With
`--exit-after N` it exits after its Nth record, closing its stdin mid-stream (a loader that dies).

    python -m tests.singer_target OUTPUT_DIR [--exit-after N]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    output = Path(argv[0])
    exit_after = int(argv[argv.index("--exit-after") + 1]) if "--exit-after" in argv else None
    output.mkdir(parents=True, exist_ok=True)
    records = 0
    with (output / "records.jsonl").open("a") as stored:
        for line in sys.stdin:
            message = json.loads(line)
            if message["type"] == "RECORD":
                stored.write(json.dumps({"stream": message["stream"], "record": message["record"]}) + "\n")
                records += 1
                if exit_after is not None and records >= exit_after:
                    stored.flush()
                    return 3  # dies mid-stream: its stdin closes with the process
            elif message["type"] == "STATE":
                stored.flush()
                print(json.dumps(message["value"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
