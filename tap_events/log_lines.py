"""Which of the SDK's log lines are routine for this tap, in one place, and the filter that says so.

The progress lines and the closing report (report.py) sum up what the SDK says once per
partition, per discovery or per empty page, so those lines go to DEBUG (`TAP_EVENTS_LOGLEVEL=DEBUG`
shows them) and a run's console stays short. One SDK warning is not true of this tap's streams
and is dropped. `install` is called by the tap (`TapEvents`), on its own logger, each stream's
and the SDK's: a logger's filter sees only the records logged on that very logger.
"""

from __future__ import annotations

import logging

from typing_extensions import override

#: The SDK's lines (their format strings' starts) logged at DEBUG instead of INFO.
TO_DEBUG = (
    # Once per partition, from the stream's state manager.
    "Starting incremental sync of '%s' with bookmark value",
    # Once per child stream, at discovery, from the tap.
    "Added '%s' as child stream to",
    # `RESTStream.request_records` at a page without records: one per empty time window.
    "Pagination stopped after",
)
#: The SDK's lines that are not true here, dropped: windowed streams are unsorted inside a
#: window but promote their progress at every window boundary, so their progress is resumable.
DROPPED = ("Stream is assumed to be unsorted",)
#: The logger the SDK's own helpers log on (the "unsorted" warning comes from there).
SDK_LOGGER = "singer_sdk"


class RoutineLines(logging.Filter):
    """`TO_DEBUG` lines at DEBUG (shown only when the logger is enabled for DEBUG), `DROPPED` lines never."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str):
            return True
        if message.startswith(DROPPED):
            return False
        if record.levelno > logging.DEBUG and message.startswith(TO_DEBUG):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


ROUTINE_LINES = RoutineLines()


def install(*loggers: logging.Logger) -> None:
    """The filter on each logger (once: `addFilter` skips a filter a logger already has)."""
    for logger in loggers:
        logger.addFilter(ROUTINE_LINES)
