"""`tap-events-reshard`: moves bookmarks to a new number of shards, so that changing it neither
loses nor re-reads (re-bills) anything.

Reads the state of every old shard (as `meltano state get` prints it, or a bare Singer state),
merges them, and writes one state per new shard holding exactly the account partitions that the
new shard reads (shards.py: the same stable hash the tap uses), the Telnyx streams in shard 1.
A partition found in two inputs keeps the older bookmark: re-reading a little beats a gap.

    tap-events-reshard --shards 3 --out-dir new/ old-1-of-2.json old-2-of-2.json
    # new/shard-1-of-3.json ...: load each with
    meltano state set --force <state id of shard 1 of 3> "$(cat new/shard-1-of-3.json)"

`--shards 1` merges the shards back into one state.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import typing as t
from pathlib import Path

from tap_events.shards import MAX_SHARDS, TELNYX_SHARD, shard_of
from tap_events.timestamps import parse_timestamp

State = dict[str, t.Any]


def singer_state(document: t.Mapping[str, t.Any]) -> State:
    """The Singer state in a `meltano state get` document (`{"singer_state": ...}`) or a bare one."""
    inner = document.get("singer_state", document)
    return dict(inner) if isinstance(inner, dict) else {}


def _older(first: t.Any, second: t.Any) -> bool:
    """Whether bookmark `first` is older than `second` (a missing bookmark is the oldest)."""
    if first is None or second is None:
        return first is None and second is not None
    try:
        return parse_timestamp(str(first)) < parse_timestamp(str(second))
    except ValueError:
        return str(first) < str(second)


def _context_key(partition: t.Mapping[str, t.Any]) -> str:
    return json.dumps(partition.get("context", {}), sort_keys=True)


def merge(states: t.Iterable[State]) -> State:
    """One state with every partition of every input; the older bookmark where two hold the same one."""
    merged: State = {"bookmarks": {}}
    for state in states:
        for key, value in state.items():
            if key != "bookmarks":
                merged.setdefault(key, copy.deepcopy(value))
        for stream, stream_state in (state.get("bookmarks") or {}).items():
            target = merged["bookmarks"].setdefault(stream, {})
            for key, value in stream_state.items():
                if key == "partitions":
                    continue
                if key == "replication_key_value" and key in target and not _older(value, target[key]):
                    continue
                target[key] = copy.deepcopy(value)
            if "partitions" in stream_state:
                partitions = {_context_key(p): p for p in target.get("partitions", [])}
                for partition in stream_state["partitions"]:
                    key = _context_key(partition)
                    kept = partitions.get(key)
                    if kept is None or _older(
                        partition.get("replication_key_value"), kept.get("replication_key_value")
                    ):
                        partitions[key] = copy.deepcopy(partition)
                target["partitions"] = list(partitions.values())
    return merged


def split(state: State, count: int) -> list[State]:
    """`count` states: partitions by the shard of their `account_sid`, everything else in shard 1."""
    shards: list[State] = [{"bookmarks": {}} for _ in range(count)]
    for key, value in state.items():
        if key != "bookmarks":
            shards[TELNYX_SHARD - 1][key] = copy.deepcopy(value)
    for stream, stream_state in (state.get("bookmarks") or {}).items():
        rest = {key: value for key, value in stream_state.items() if key != "partitions"}
        if rest or "partitions" not in stream_state:
            shards[TELNYX_SHARD - 1]["bookmarks"].setdefault(stream, {}).update(copy.deepcopy(rest))
        for partition in stream_state.get("partitions", []):
            account = (partition.get("context") or {}).get("account_sid")
            index = shard_of(account, count) if account else TELNYX_SHARD
            target = shards[index - 1]["bookmarks"].setdefault(stream, {})
            target.setdefault("partitions", []).append(copy.deepcopy(partition))
    return shards


def reshard(states: t.Iterable[State], count: int) -> list[State]:
    return split(merge(states), count)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tap-events-reshard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, required=True, help="the new number of shards")
    parser.add_argument("--out-dir", type=Path, required=True, help="where shard-<i>-of-<n>.json are written")
    parser.add_argument("states", nargs="+", type=Path, help="the state of every old shard (JSON files)")
    args = parser.parse_args(argv)
    if not 1 <= args.shards <= MAX_SHARDS:
        parser.error(f"--shards must be from 1 to {MAX_SHARDS}")
    inputs = []
    for path in args.states:
        try:
            inputs.append(singer_state(json.loads(path.read_text())))
        except (OSError, ValueError) as exc:
            parser.error(f"{path}: not a readable JSON state ({type(exc).__name__})")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for index, state in enumerate(reshard(inputs, args.shards), start=1):
        path = args.out_dir / f"shard-{index}-of-{args.shards}.json"
        path.write_text(json.dumps({"singer_state": state}, indent=2))
        accounts = {
            (p.get("context") or {}).get("account_sid")
            for stream_state in state["bookmarks"].values()
            for p in stream_state.get("partitions", [])
        } - {None}
        print(f"{path}: {len(accounts)} account(s), {len(state['bookmarks'])} stream(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
