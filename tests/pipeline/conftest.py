"""What the pipeline tests share: one PostgreSQL server per test module that loads into it."""

from __future__ import annotations

import typing as t

import pytest

from tests.postgres_cluster import PostgresCluster, require_postgres

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server (skipped, or failed under CI, where none is installed)."""
    with PostgresCluster(require_postgres()) as cluster:
        yield cluster
