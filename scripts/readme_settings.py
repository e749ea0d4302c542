"""Rewrite the README's settings table from `tap-events --about --format=markdown`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tap_events.settings import SETTINGS

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    about = subprocess.run(
        [sys.executable, "-m", "tap_events", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    header = [line for line in about if line.startswith(("| Setting", "|:---"))]
    own = SETTINGS.to_dict()["properties"]
    rows = [line for line in about if line.startswith("| ") and line.split("|")[1].strip() in own]
    return "\n".join(header + rows)


def main() -> None:
    text = README.read_text()
    before, rest = text.split(START)
    _, after = rest.split(END)
    README.write_text(f"{before}{START}\n{settings_table()}\n{END}{after}")


if __name__ == "__main__":
    main()
