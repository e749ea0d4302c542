"""The raw baseline: `requests` + `orjson`, writing the same Singer messages as the tap.

    python -m benchmarks.baseline_raw --config config.json > /dev/null

Reads Twilio Monitor Events the way tap-events does: one day window per request chain
(`StartDate` = `EndDate` = the day, `PageSize` = `page_size`), from the day of `start_date` up
to today (UTC), following each page's absolute `meta.next_page_url` verbatim. For every event it
writes `{"type":"RECORD","stream":...,"record":...,"time_extracted":...}` (one line, as the tap
does), and one STATE line after each day. No schema conformance, no timestamp normalisation (the
emulator already sends the tap's format), no per-record flush: the least work that produces the
same output, i.e. the floor for a Python tap.

`--fetch-only` skips writing (it still parses each page to find the next one): its wall time is
close to what the emulator itself needs to serve the pages, the ceiling of any client.

The config file is the tap's own (`twilio_monitor_base_url`, `twilio_account_sid`,
`twilio_auth_token`, `start_date`, `page_size`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import typing as t

import orjson
import requests

STREAM = "twilio_monitor_events"
PATH = "/v1/Events"


def days(start: dt.date, end: dt.date) -> t.Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def parse_date(value: str) -> dt.date:
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC)
    return parsed.date()


def run(config: dict[str, t.Any], out: t.BinaryIO, *, fetch_only: bool = False) -> int:
    """Write every event's RECORD (and a STATE per day) to `out`; return how many records."""
    base_url = str(config["twilio_monitor_base_url"]).rstrip("/")
    session = requests.Session()
    session.auth = (config["twilio_account_sid"], config["twilio_auth_token"])
    today = dt.datetime.now(dt.UTC).date()
    start = parse_date(config["start_date"]) if config.get("start_date") else today - dt.timedelta(days=30)
    page_size = int(config.get("page_size", 1000))
    write = out.write
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    count = 0
    bookmark = ""
    if not fetch_only:
        schema = {"type": "SCHEMA", "stream": STREAM, "schema": {}, "key_properties": ["sid"]}
        write(dumps(schema, option=newline))
    for day in days(start, today):
        stamp = f"{day:%Y-%m-%d}T00:00:00Z"
        url: str | None = f"{base_url}{PATH}"
        params: dict[str, t.Any] | None = {
            "StartDate": stamp,
            "EndDate": stamp,
            "PageSize": page_size,
        }
        while url:
            response = session.get(url, params=params, timeout=60)
            response.raise_for_status()
            body = orjson.loads(response.content)
            events = body["events"]
            count += len(events)
            if not fetch_only:
                extracted = dt.datetime.now(dt.UTC).isoformat()
                for record in events:
                    message = {
                        "type": "RECORD",
                        "stream": STREAM,
                        "record": record,
                        "time_extracted": extracted,
                    }
                    write(dumps(message, option=newline))
                    bookmark = max(bookmark, record["event_date"])
            url = body["meta"].get("next_page_url")
            params = None  # next_page_url already carries every parameter
        if not fetch_only:
            state = {"bookmarks": {STREAM: {"replication_key": "event_date", "replication_key_value": bookmark}}}
            write(dumps({"type": "STATE", "value": state}, option=newline))
    out.flush()
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the tap's JSON config file")
    parser.add_argument("--fetch-only", action="store_true", help="parse pages but write nothing")
    args = parser.parse_args(argv)
    with open(args.config) as handle:
        config = json.load(handle)
    count = run(config, sys.stdout.buffer, fetch_only=args.fetch_only)
    print(f"baseline_raw: {count} records", file=sys.stderr)


if __name__ == "__main__":
    main()
