"""A throw-away PostgreSQL server on a free loopback port, for the tests that load into PostgreSQL."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.warehouses import quote_identifier

INSTALL_POSTGRES = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found: install them, e.g. "
    "`apt-get install postgresql` on Debian/Ubuntu (they land in /usr/lib/postgresql/<version>/bin) "
    "or `brew install postgresql` on macOS, or put their directory in PG_BIN."
)


def postgres_bin() -> Path | None:
    """Where initdb and pg_ctl are: $PG_BIN, the PATH, or Debian's /usr/lib/postgresql/*/bin."""
    candidates = [Path(os.environ["PG_BIN"])] if os.environ.get("PG_BIN") else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.replace(".", "").isdigit()]
        for version in sorted(versions, key=lambda p: float(p.name), reverse=True):
            candidates.append(version / "bin")
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


def require_postgres() -> Path:
    """The server binaries, or skip the test (fail it in CI, where they must be installed)."""
    found = postgres_bin()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests. {INSTALL_POSTGRES}")
        pytest.skip(INSTALL_POSTGRES)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresCluster:
    """A throw-away server: initdb in a temporary folder, trust authentication, listening on
    127.0.0.1 only. The server refuses to run as root, so as root it runs as the `postgres`
    user (made by Debian's package) or `nobody`."""

    bin: Path
    port: int = 0
    root: Path = field(default_factory=Path)
    user: str | None = None
    superuser: str = "postgres"

    def __enter__(self) -> PostgresCluster:
        self.root = Path(tempfile.mkdtemp(prefix="tap-events-pg-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        if os.geteuid() == 0:
            self.user = next(name for name in ("postgres", "nobody") if _user_exists(name))
            account = pwd.getpwnam(self.user)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.port = free_port()
        data = self.root / "data"
        self._run(
            self.bin / "initdb",
            "-D",
            data,
            "-U",
            self.superuser,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            self.bin / "pg_ctl",
            "-D",
            data,
            "-l",
            self.root / "server.log",
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            self._run(self.bin / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={self.superuser} dbname={database}"

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(f"create database {quote_identifier(name)}")  # type: ignore[arg-type]
        return name

    def _run(self, *command: str | Path) -> None:
        arguments = [str(part) for part in command]
        if self.user:
            arguments = ["runuser", "-u", self.user, "--", *arguments]
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=120, check=False, cwd=self.root)
        if result.returncode != 0:
            log = self.root / "server.log"
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{' '.join(arguments)} failed: {result.stdout}{result.stderr}{server_log}")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
