"""One timestamp format per stream.

The SDK compares replication-key values as strings (meltano/sdk#2753), so every bookmarked
value is written in a fixed-width UTC form: `Z` suffix, a fixed number of fraction digits.
"""

from __future__ import annotations

import datetime as dt
import typing as t

ONE_SECOND = dt.timedelta(seconds=1)
#: How many fraction digits a stream's timestamps carry.
Precision = t.Literal["seconds", "milliseconds", "microseconds"]
_SECONDS = "%Y-%m-%dT%H:%M:%S"
#: A timestamp is canonical when, encoded with its digits turned to 9s, it is its precision's shape:
#: a C-speed check (a regex takes three times as long), done twice per record (monitor.py, windows.py).
DIGITS_TO_NINES = bytes.maketrans(b"0123456789", b"9999999999")
CANONICAL_SHAPES: dict[Precision, bytes] = {
    "seconds": b"9999-99-99T99:99:99Z",
    "milliseconds": b"9999-99-99T99:99:99.999Z",
    "microseconds": b"9999-99-99T99:99:99.999999Z",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_timestamp(value: str | dt.datetime) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 (`Z` or offset; a date alone means midnight UTC)."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def format_timestamp(value: dt.datetime, precision: Precision = "seconds") -> str:
    """`seconds`, `milliseconds` or `microseconds` after the point, always with `Z`."""
    value = value.astimezone(dt.UTC)
    fraction = {
        "seconds": "",
        "milliseconds": f".{value.microsecond // 1000:03d}",
        "microseconds": f".{value.microsecond:06d}",
    }[precision]
    return f"{value.strftime(_SECONDS)}{fraction}Z"


def normalize_timestamp(value: str, precision: Precision = "seconds") -> str:
    """`value` in the canonical form of `precision`; values already in it are returned as they are."""
    if value.encode().translate(DIGITS_TO_NINES) == CANONICAL_SHAPES[precision]:
        return value
    return format_timestamp(parse_timestamp(value), precision)


def placed_timestamp(value: t.Any, precision: Precision = "seconds") -> str | None:
    """`normalize_timestamp` of a value the API sent, or None when it is no timestamp (missing,
    null, not a string, or text that is no ISO 8601 date-time): a value the tap cannot place."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return normalize_timestamp(value, precision)
    except (ValueError, OverflowError):
        return None


def normalize_timestamps(values: list[str], precision: Precision = "seconds") -> list[str]:
    """`normalize_timestamp` of each value; a list already canonical, as the APIs answer, is
    recognised in one call and returned as it is."""
    joined = "|".join(values).encode().translate(DIGITS_TO_NINES) + b"|"  # "|" is in no shape
    if joined == (CANONICAL_SHAPES[precision] + b"|") * len(values):
        return values
    return [normalize_timestamp(value, precision) for value in values]


def floor_second(value: dt.datetime) -> dt.datetime:
    return value.replace(microsecond=0)


def ceil_second(value: dt.datetime) -> dt.datetime:
    floor = value.replace(microsecond=0)
    return floor if floor == value else floor + dt.timedelta(seconds=1)
