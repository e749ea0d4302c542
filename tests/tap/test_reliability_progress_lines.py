"""While a stream runs, progress lines say its windows whole of the total, the records written, the
records per second and the time left; one at each partition's end at least, and with
`progress_interval_seconds` at 0, one per window and chunk of records."""

from __future__ import annotations

import re

from emulator.server import DEFAULT_ACCOUNT_SID
from tests.common import twilio_config
from tests.tap_runner import catalog_selecting, run_tap

STREAM = "twilio_monitor_events"
SECOND_ACCOUNT, SECOND_TOKEN = "AC" + "2" * 32, "token-of-the-second-account"
LINE = re.compile(
    rf"Progress: {STREAM}: (?P<whole>\d+) of (?P<total>\d+) windows whole, (?P<records>\d+) records written, "
    r"(?P<rate>\d+) records/s, (?P<eta>about \d+ s left|no window left|time left not known yet)(?P<end> \(.+ done\))?$"
)


def _progress_lines(stderr: str) -> list[re.Match[str]]:
    return [match for line in stderr.splitlines() if (match := LINE.search(line))]


def test_progress_lines_say_windows_records_rate_and_time_left(emulator):
    config = twilio_config(emulator, page_size=50, progress_interval_seconds=0)

    run = run_tap(config, catalog=catalog_selecting(config, [STREAM]))

    assert run.returncode == 0, run.stderr
    lines = _progress_lines(run.stderr)
    total = int(lines[0]["total"])
    assert total > 1
    assert all(int(line["total"]) == total for line in lines)
    assert [int(line["whole"]) for line in lines] == sorted(int(line["whole"]) for line in lines)
    assert any(line["eta"].startswith("about ") for line in lines)
    assert {int(line["whole"]) for line in lines} >= set(range(1, total + 1))  # a line as each window is whole
    last = lines[-1]
    assert last["end"] == f" (account {DEFAULT_ACCOUNT_SID} done)"
    assert (int(last["whole"]), last["eta"]) == (total, "no window left")
    assert int(last["records"]) == len(run.records[STREAM])
    assert int(last["rate"]) >= 0


def test_each_partition_ends_with_a_progress_line(emulator):
    emulator.add_twilio_account(SECOND_ACCOUNT, SECOND_TOKEN)
    config = twilio_config(
        emulator,
        twilio_accounts=[{"account_sid": SECOND_ACCOUNT, "auth_token": SECOND_TOKEN}],
        progress_interval_seconds=3600,
    )

    run = run_tap(config, catalog=catalog_selecting(config, [STREAM]))

    assert run.returncode == 0, run.stderr
    lines = _progress_lines(run.stderr)
    assert all(line["end"] for line in lines)
    ends = [line["end"] for line in lines]
    assert sorted(ends) == sorted([f" (account {DEFAULT_ACCOUNT_SID} done)", f" (account {SECOND_ACCOUNT} done)"])
