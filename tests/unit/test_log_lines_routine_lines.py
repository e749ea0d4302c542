"""Which SDK lines are routine (log_lines.py), in process: at DEBUG only when DEBUG is enabled,
the "unsorted" warning never, every other line as it was."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tap_events import log_lines


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, _Kept]]:
    logger = logging.getLogger("tests.log_lines")
    kept = _Kept()
    logger.addHandler(kept)
    logger.propagate = False
    log_lines.install(logger)
    log_lines.install(logger)  # installed twice: still one filter
    yield logger, kept
    logger.removeHandler(kept)
    logger.removeFilter(log_lines.ROUTINE_LINES)


def test_routine_lines_are_hidden_at_info(logger):
    logger, kept = logger
    logger.setLevel(logging.INFO)

    logger.info("Starting incremental sync of '%s' with bookmark value: %s", "a_stream", None)
    logger.info("Added '%s' as child stream to '%s'", "child", "parent")
    logger.info("Pagination stopped after %d pages because no records were found in the last response", 0)
    logger.info("Progress: %s", "a_stream")

    assert [record.getMessage() for record in kept.records] == ["Progress: a_stream"]
    assert len(logger.filters) == 1


def test_routine_lines_show_at_debug_as_debug(logger):
    logger, kept = logger
    logger.setLevel(logging.DEBUG)

    logger.info("Pagination stopped after %d pages because no records were found in the last response", 0)

    assert [record.levelname for record in kept.records] == ["DEBUG"]


def test_the_unsorted_warning_is_dropped_and_other_warnings_kept(logger):
    logger, kept = logger
    logger.setLevel(logging.DEBUG)

    logger.warning("Stream is assumed to be unsorted, progress is not resumable if interrupted")
    logger.warning("%s: HTTP 503 on GET %s; retry %d in %.1f s", "a_stream", "/v1/Events", 1, 1.0)

    assert [record.levelname for record in kept.records] == ["WARNING"]
    assert "HTTP 503" in kept.records[0].getMessage()
