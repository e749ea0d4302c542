"""Shards: a run that takes only its share of the accounts (`shard: "3/16"`), so that N runs
together read every account once.

An account belongs to the shard its SID hashes to (SHA-256, not Python's salted `hash`), so the
assignment never changes between runs, machines or versions while the number of shards stays
the same. Telnyx (one organisation per API key, no SID to hash) is read by shard 1 only.
Changing the number of shards moves accounts between shards: `tap_events.reshard` moves their
bookmarks with them.
"""

from __future__ import annotations

import hashlib
import re
import typing as t
from dataclasses import dataclass

from typing_extensions import override

#: Shard of Telnyx's streams (and of any stream state that names no account).
TELNYX_SHARD = 1
#: More shards than this is a mistake (Airflow maps at most 1,024 task instances by default).
MAX_SHARDS = 1024
SHARD_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def shard_of(account_sid: str, count: int) -> int:
    """The shard (1 to `count`) that reads `account_sid`: the same on every machine and run."""
    digest = hashlib.sha256(account_sid.strip().lower().encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def holds(self, account_sid: str) -> bool:
        return shard_of(account_sid, self.count) == self.index

    @property
    def holds_telnyx(self) -> bool:
        return self.index == TELNYX_SHARD

    @override
    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


#: The whole: every account, Telnyx included.
WHOLE = Shard(1, 1)


def shard_error(value: t.Any) -> str | None:
    """What is wrong with a `shard` setting, naming it (the value is not secret); empty is unset."""
    if value is None or value == "":
        return None
    match = SHARD_PATTERN.fullmatch(str(value)) if isinstance(value, str) else None
    if not match:
        return f"shard must be 'INDEX/COUNT' such as '3/16', got {value!r}."
    index, count = int(match[1]), int(match[2])
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        return f"shard must have 1 <= INDEX <= COUNT <= {MAX_SHARDS}, got {value!r}."
    return None


def configured_shard(config: t.Mapping[str, t.Any]) -> Shard:
    """The run's shard (`WHOLE` when `shard` is not set); the setting was validated already."""
    value = config.get("shard")
    match = SHARD_PATTERN.fullmatch(str(value)) if value else None
    return Shard(int(match[1]), int(match[2])) if match else WHOLE
