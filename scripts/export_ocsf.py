"""Export the OCSF events of the warehouse (transform/models/ocsf) for a SIEM: README "Into a SIEM".

    python -m scripts.export_ocsf --duckdb output/warehouse.duckdb
    python -m scripts.export_ocsf --postgres "host=... dbname=warehouse user=..."

writes, for each OCSF class,
- JSON lines: `output/ocsf/<class>.jsonl`, one event a line (nulls dropped);
- Amazon Security Lake's custom-source layout: `output/security-lake/ext/<source>/region=<region>/
  accountId=<account>/eventDay=<YYYYMMDD>/<file>.parquet`, zstd, rows sorted by time, one OCSF
  class per source, each attribute typed by OCSF (type_uid and timestamps 64-bit integers).

Incremental: a run writes only the events not exported before. What each destination holds is
kept in a ledger beside it, `output/ocsf-export-ledger/<jsonl|security-lake>/<class>.uids` (the
`metadata.uid` of each event written, one a line). A run that dies half-way leaves a `.pending`
note there; the next run first undoes what that run wrote (truncates the JSON lines file, removes
its Parquet files) unless its ledger lines were written in full: each event lands exactly once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from scripts.ocsf_schema import CLASSES, OCSF_VERSION, OcsfClass, arrow_schema, arrow_table, drop_nulls

Event = dict[str, t.Any]
PARTITION_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


# ---- reading the warehouse ----------------------------------------------------------------


class WarehouseError(Exception):
    """The warehouse could not be read: the message names the setting and the database's answer."""


def read_events(
    ocsf_class: OcsfClass, *, duckdb_path: Path | None = None, postgres: str | None = None, schema: str = "analytics"
) -> list[Event]:
    """Every event of the class's model, oldest first, nulls dropped; none if it was never built."""
    sql = f'select event from "{schema}"."{ocsf_class.model}" order by event_time, event_uid'
    exists = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    rows: list[tuple[t.Any, ...]]
    if duckdb_path is not None:
        import duckdb

        try:
            with duckdb.connect(str(duckdb_path), read_only=True) as connection:
                found = connection.execute(exists, [schema, ocsf_class.model]).fetchone()
                rows = connection.execute(sql).fetchall() if found and found[0] else []
        except duckdb.Error as error:
            raise WarehouseError(f"--duckdb {duckdb_path}: {error}") from None
    else:
        import psycopg

        try:
            with psycopg.connect(t.cast(str, postgres)) as connection:
                found = connection.execute(exists.replace("?", "%s"), [schema, ocsf_class.model]).fetchone()
                rows = connection.execute(sql).fetchall() if found and found[0] else []  # type: ignore[arg-type]
        except psycopg.Error as error:
            raise WarehouseError(f"--postgres: {error}") from None
    return [drop_nulls(json.loads(event) if isinstance(event, str) else event) for (event,) in rows]


# ---- the ledger -----------------------------------------------------------------------------


def _fsync_append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def _write_atomically(path: Path, data: bytes) -> None:
    """The whole file or the one before, after a crash too: the data is on disk before the new
    name points to it, and the folder holds the new name once this returns."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class Ledger:
    """The `metadata.uid`s one destination holds, per class, and the note of a write under way."""

    root: Path
    ocsf_class: OcsfClass

    @property
    def path(self) -> Path:
        return self.root / f"{self.ocsf_class.name}.uids"

    @property
    def pending(self) -> Path:
        return self.root / f"{self.ocsf_class.name}.pending"

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def exported(self) -> set[str]:
        return set(self.path.read_text(encoding="utf-8").splitlines()) if self.path.exists() else set()

    def begin(self, undo: dict[str, t.Any], uids: list[str]) -> None:
        """Note what is about to be written, and how to undo it, before writing it."""
        self.root.mkdir(parents=True, exist_ok=True)
        lines = "".join(f"{uid}\n" for uid in uids)
        note = {**undo, "ledger_size": self.size(), "ledger_bytes": len(lines.encode())}
        _write_atomically(self.pending, json.dumps(note).encode())

    def commit(self, uids: list[str]) -> None:
        _fsync_append(self.path, "".join(f"{uid}\n" for uid in uids))
        self.pending.unlink()

    def recover(self) -> None:
        """Finish or undo a run that died between `begin` and `commit`."""
        if not self.pending.exists():
            return
        note = json.loads(self.pending.read_text())
        if self.size() == note["ledger_size"] + note["ledger_bytes"]:
            self.pending.unlink()  # the ledger lines were written: the export is whole
            return
        if self.path.exists():
            os.truncate(self.path, note["ledger_size"])
        if "jsonl" in note:
            jsonl = Path(note["jsonl"])
            if jsonl.exists():
                os.truncate(jsonl, note["jsonl_size"])
        for written in note.get("parquet", []):
            Path(written).unlink(missing_ok=True)
            Path(written + ".tmp").unlink(missing_ok=True)
        self.pending.unlink()


# ---- the two destinations ---------------------------------------------------------------------


def export_jsonl(ocsf_class: OcsfClass, events: list[Event], folder: Path, ledger: Ledger) -> int:
    """Append the events not in the ledger to `<folder>/<class>.jsonl`; how many were new."""
    ledger.recover()
    exported = ledger.exported()
    new = [event for event in events if event["metadata"]["uid"] not in exported]
    if not new:
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ocsf_class.name}.jsonl"
    uids = [event["metadata"]["uid"] for event in new]
    ledger.begin({"jsonl": str(path), "jsonl_size": path.stat().st_size if path.exists() else 0}, uids)
    _fsync_append(path, "".join(json.dumps(event, separators=(",", ":")) + "\n" for event in new))
    ledger.commit(uids)
    return len(new)


def partition_of(event: Event, region: str, account_id: str | None) -> tuple[str, str, str]:
    """Security Lake's partition of an event: region, account, and the UTC day of its `time`."""
    day = dt.datetime.fromtimestamp(event["time"] / 1000, dt.UTC).strftime("%Y%m%d")
    return region, account_id or event["cloud"]["account"]["uid"], day


def export_security_lake(
    ocsf_class: OcsfClass, events: list[Event], root: Path, ledger: Ledger, *, region: str, account_id: str | None
) -> tuple[int, list[Path]]:
    """Write the events not in the ledger as Parquet files (zstd, sorted by time), one per
    partition; how many were new, and the files written."""
    import pyarrow.parquet as pq

    ledger.recover()
    exported = ledger.exported()
    new = [event for event in events if event["metadata"]["uid"] not in exported]
    if not new:
        return 0, []
    partitions: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
    for event in new:
        partitions[partition_of(event, region, account_id)].append(event)
    planned: list[tuple[Path, list[Event]]] = []
    for (part_region, account, day), rows in sorted(partitions.items()):
        rows.sort(key=lambda event: (event["time"], event["metadata"]["uid"]))
        digest = hashlib.sha256("\n".join(event["metadata"]["uid"] for event in rows).encode()).hexdigest()[:16]
        folder = root / "ext" / ocsf_class.source / f"region={part_region}" / f"accountId={account}" / f"eventDay={day}"
        planned.append((folder / f"{ocsf_class.name}-{digest}.zstd.parquet", rows))
    uids = [event["metadata"]["uid"] for _, rows in planned for event in rows]
    # One schema for every file of the run: the attributes of all the class's events, not only the new.
    schema = arrow_schema(ocsf_class, events)
    ledger.begin({"parquet": [str(path) for path, _ in planned]}, uids)
    for path, rows in planned:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        pq.write_table(arrow_table(ocsf_class, rows, schema), temporary, compression="zstd")
        with temporary.open("rb") as written:
            os.fsync(written.fileno())  # on disk before the ledger says so
        os.replace(temporary, path)
    ledger.commit(uids)
    return len(new), [path for path, _ in planned]


# ---- the command ------------------------------------------------------------------------------


@dataclass
class ClassExport:
    ocsf_class: OcsfClass
    total: int
    new_jsonl: int
    new_parquet: int


def export(
    *,
    duckdb_path: Path | None = None,
    postgres: str | None = None,
    schema: str = "analytics",
    jsonl_dir: Path = Path("output/ocsf"),
    security_lake_dir: Path = Path("output/security-lake"),
    ledger_dir: Path = Path("output/ocsf-export-ledger"),
    region: str = "us-east-1",
    account_id: str | None = None,
) -> list[ClassExport]:
    """Both exports of every class; what each added."""
    done = []
    for ocsf_class in CLASSES:
        events = read_events(ocsf_class, duckdb_path=duckdb_path, postgres=postgres, schema=schema)
        new_jsonl = export_jsonl(ocsf_class, events, jsonl_dir, Ledger(ledger_dir / "jsonl", ocsf_class))
        new_parquet, _ = export_security_lake(
            ocsf_class,
            events,
            security_lake_dir,
            Ledger(ledger_dir / "security-lake", ocsf_class),
            region=region,
            account_id=account_id,
        )
        done.append(ClassExport(ocsf_class, len(events), new_jsonl, new_parquet))
    return done


def print_summary(done: list[ClassExport], jsonl_dir: Path, security_lake_dir: Path) -> None:
    print(
        f"\nOCSF {OCSF_VERSION} events (new this run / in the warehouse), "
        f"in {jsonl_dir}/<class>.jsonl and {security_lake_dir}/ext/<source>/:"
    )
    for each in done:
        new = "" if each.new_jsonl == each.new_parquet else f" (Security Lake: {each.new_parquet} new)"
        label = f"{each.ocsf_class.caption} ({each.ocsf_class.uid})"
        files = f"{each.ocsf_class.name}.jsonl  {each.ocsf_class.source}"
        print(f"  {label:<26} {each.new_jsonl:>6} / {each.total:<6}{new}  {files}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.export_ocsf", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--duckdb", type=Path, help="the DuckDB warehouse file")
    source.add_argument("--postgres", help="a PostgreSQL connection string (libpq: 'host=... dbname=...' or a URI)")
    parser.add_argument("--schema", default="analytics", help="where dbt built the models (default analytics)")
    parser.add_argument("--jsonl-dir", type=Path, default=Path("output/ocsf"))
    parser.add_argument("--security-lake-dir", type=Path, default=Path("output/security-lake"))
    parser.add_argument("--ledger-dir", type=Path, default=Path("output/ocsf-export-ledger"))
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION", "us-east-1"),
        help="Security Lake's region (default $AWS_REGION or us-east-1)",
    )
    parser.add_argument(
        "--account-id",
        help="the AWS account of the custom source, for every partition (default: each event's provider account)",
    )
    arguments = parser.parse_args(argv)
    if arguments.duckdb is not None and not arguments.duckdb.is_file():
        parser.error(f"--duckdb: no such file: {arguments.duckdb}")
    # Partition values: a name, never a path.
    if not PARTITION_VALUE.fullmatch(arguments.region):
        parser.error(f"--region: {arguments.region!r} is not a region name (letters, digits, '-')")
    if arguments.account_id is not None and not PARTITION_VALUE.fullmatch(arguments.account_id):
        parser.error(f"--account-id: {arguments.account_id!r} is not an account ID (letters, digits, '-')")
    try:
        done = export(
            duckdb_path=arguments.duckdb,
            postgres=arguments.postgres,
            schema=arguments.schema,
            jsonl_dir=arguments.jsonl_dir,
            security_lake_dir=arguments.security_lake_dir,
            ledger_dir=arguments.ledger_dir,
            region=arguments.region,
            account_id=arguments.account_id,
        )
    except WarehouseError as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    print_summary(done, arguments.jsonl_dir, arguments.security_lake_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
