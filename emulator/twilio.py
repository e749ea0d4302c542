"""What every Twilio list endpoint shares: SIDs, timestamps, filters and `meta` paging."""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import random
import re
import typing as t
from urllib.parse import urlencode

from emulator.http import RETENTION_ANSWERS, Request, Response, twilio_error

if t.TYPE_CHECKING:
    from emulator.server import Emulator


def refuse_if_too_old(
    answer: str, name: str, start: dt.datetime | None, now: dt.datetime, retention: dt.timedelta
) -> None:
    """A `name` reaching back further than `retention`: "refuse" answers HTTP 400; "trim" lets it
    through, and the handler serves only what is kept."""
    if answer not in RETENTION_ANSWERS:
        raise ValueError(f"retention answer must be one of {RETENTION_ANSWERS}, not {answer!r}")
    if answer == "refuse" and start is not None and start < (now - retention).replace(microsecond=0):
        days = round(retention / dt.timedelta(days=1))
        raise twilio_error(400, 20001, f"{name}: queries reaching more than {days} days back are not supported")


def new_sid(rng: random.Random, prefix: str) -> str:
    return prefix + f"{rng.getrandbits(128):032x}"


def moments_between(rng: random.Random, start: dt.datetime, end: dt.datetime, count: int) -> list[dt.datetime]:
    """`count` moments at random in [start, end), to the millisecond, ascending: a busy stretch
    (the benchmark's busy day) built fast enough for tens of thousands of records."""
    span_ms = max(1, (end - start) // dt.timedelta(milliseconds=1))
    return sorted(start + dt.timedelta(milliseconds=rng.randrange(span_ms)) for _ in range(count))


def twilio_timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


STRICT_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
MILLISECOND_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def parse_date_param(request: Request, name: str, *, formats: str = "iso") -> dt.datetime | None:
    """A StartDate/EndDate parameter; `strict` accepts only yyyy-MM-ddTHH:mm:ssZ (TaskRouter), in
    that case (`strptime` alone would take a lower-case `t` or `z`)."""
    value = request.param(name)
    if value is None:
        return None
    try:
        if formats == "strict":
            if not STRICT_TIMESTAMP.fullmatch(value):
                raise ValueError(value)
            return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise twilio_error(400, 20001, f"Invalid {name}: {value}") from None
    return parsed.replace(tzinfo=parsed.tzinfo or dt.UTC).astimezone(dt.UTC)


class SortedRecords:
    """Records kept in ascending (timestamp, sid) order, served newest first.

    Paging uses a cursor (the key of the last record served), as Twilio's PageToken does,
    so records added while a client pages do not shift the pages it has not read yet.
    """

    def __init__(self, timestamp_field: str, *, milliseconds: bool = False) -> None:
        self.timestamp_field = timestamp_field
        self.milliseconds = milliseconds
        self._keys: list[tuple[str, str]] = []
        self._records: list[dict[str, t.Any]] = []

    def key(self, record: dict[str, t.Any]) -> tuple[str, str]:
        """(timestamp, sid); a timestamp in another form than the API's own (an offset, a
        fraction: tests that serve every form the spec allows) as the instant in that form."""
        value = record[self.timestamp_field]
        shape = MILLISECOND_TIMESTAMP if self.milliseconds else STRICT_TIMESTAMP
        if not shape.fullmatch(value):
            instant = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" else value)
            instant = instant.replace(tzinfo=instant.tzinfo or dt.UTC).astimezone(dt.UTC)
            value = twilio_timestamp(instant)
            if self.milliseconds:
                value = f"{value[:-1]}.{instant.microsecond // 1000:03d}Z"
        return (value, record["sid"])

    def add(self, record: dict[str, t.Any]) -> None:
        key = self.key(record)
        index = bisect.bisect_left(self._keys, key)
        self._keys.insert(index, key)
        self._records.insert(index, record)

    def extend(self, records: t.Iterable[dict[str, t.Any]]) -> None:
        for record in records:
            self._keys.append(self.key(record))
            self._records.append(record)
        pairs = sorted(zip(self._keys, self._records, strict=True), key=lambda pair: pair[0])
        self._keys = [key for key, _ in pairs]
        self._records = [record for _, record in pairs]

    def remove(self, sid: str) -> None:
        keep = [(k, r) for k, r in zip(self._keys, self._records, strict=True) if r["sid"] != sid]
        self._keys = [k for k, _ in keep]
        self._records = [r for _, r in keep]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> t.Iterator[dict[str, t.Any]]:
        return iter(self._records)

    def newest_first(
        self, since: str | None, until: str | None, cursor: PageCursor | tuple[str, str] | None = None
    ) -> t.Iterator[dict[str, t.Any]]:
        """Records with since <= timestamp < until (string keys), newest first: those older than a
        next-page cursor, or the `size` just newer than a previous-page cursor."""
        low = bisect.bisect_left(self._keys, (since, "")) if since else 0
        high = bisect.bisect_left(self._keys, (until, "")) if until else len(self._keys)
        if isinstance(cursor, PageCursor) and cursor.size is not None:
            low = max(low, bisect.bisect_right(self._keys, cursor.key))
            high = min(high, low + cursor.size)
        elif cursor is not None:
            high = min(high, bisect.bisect_left(self._keys, cursor.key if isinstance(cursor, PageCursor) else cursor))
        for index in range(high - 1, low - 1, -1):
            yield self._records[index]


class PageCursor(t.NamedTuple):
    """Where a `PageToken` points: after `key` (a next page), or, with `size`, the `size`
    records just before it (a previous page)."""

    key: tuple[str, str]
    size: int | None = None


def encode_token(key: tuple[str, str], previous_page_size: int | None = None) -> str:
    """`PA…` for the page after `key`; `PB…` for the `previous_page_size` records before it."""
    if previous_page_size is None:
        return "PA" + base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
    payload = json.dumps([*key, previous_page_size]).encode()
    return "PB" + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_token(token: str) -> PageCursor:
    try:
        raw = token[2:] + "=" * (-len(token[2:]) % 4)
        values = json.loads(base64.urlsafe_b64decode(raw))
        if token.startswith("PA") and len(values) == 2:
            return PageCursor((str(values[0]), str(values[1])))
        if token.startswith("PB") and len(values) == 3 and int(values[2]) > 0:
            return PageCursor((str(values[0]), str(values[1])), int(values[2]))
    except (ValueError, TypeError, KeyError):
        pass
    raise twilio_error(400, 20001, f"Invalid PageToken: {token}")


def page_size(request: Request) -> int:
    raw = request.param("PageSize") or "50"
    try:
        size = int(raw)
    except ValueError:
        raise twilio_error(400, 20001, f"Invalid PageSize: {raw}") from None
    if not 1 <= size <= 1000:
        raise twilio_error(400, 20001, f"PageSize must be between 1 and 1000, got {size}")
    return size


def twilio_page(
    emulator: Emulator,
    request: Request,
    records: t.Iterable[dict[str, t.Any]],
    *,
    key: str,
    cursor: t.Callable[[dict[str, t.Any]], tuple[str, str]],
    filters: dict[str, str],
) -> Response:
    """One page of a list, with `meta` exactly as Twilio's spec shows it.

    `records` must already start after the cursor of `PageToken`; `filters` are the query
    parameters the URLs of `meta` carry (Twilio echoes them in every link).
    """
    size = page_size(request)
    raw_page = request.param("Page") or "0"
    if not (raw_page.isascii() and raw_page.isdigit()):
        raise twilio_error(400, 20001, f"Invalid Page: {raw_page}")
    page_number = int(raw_page)
    items: list[dict[str, t.Any]] = []
    more = False
    for record in records:
        if len(items) == size:
            more = True
            break
        items.append(record)
    base = f"{emulator.public_origin}{request.path}"

    def link(page: int, token: str | None = None) -> str:
        params = {**filters, "PageSize": size, "Page": page}
        if token:
            params["PageToken"] = token
        return f"{base}?{urlencode(params)}"

    next_page_url = link(page_number + 1, encode_token(cursor(items[-1]))) if more else None
    own_url = link(page_number, request.param("PageToken"))
    if emulator.cycle_next_page_url:
        if page_number == 1:
            emulator.second_page_url = own_url
        elif page_number > 1:
            next_page_url = emulator.second_page_url
    return Response(
        200,
        {
            key: items,
            "meta": {
                "page": page_number,
                "page_size": size,
                "first_page_url": link(0),
                "previous_page_url": (
                    link(page_number - 1, encode_token(cursor(items[0]), size)) if page_number > 0 and items else None
                ),
                "url": own_url,
                "next_page_url": next_page_url,
                "key": key,
            },
        },
    )
