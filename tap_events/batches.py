"""BATCH mode: STATE is held back while the records it claims are only in a batch file being written.

With `batch_config`, records go to files and a BATCH message announces each file once it is
complete. The streams move their bookmarks as windows (or Telnyx pages) are read, and would
write STATE then, before the BATCH message of those records: a target commits the state it
receives, so a kill between the two would lose the batch in flight. While a stream fills a
batch, `StateGate` therefore swallows every STATE (the streams', the SDK's, the one a SIGTERM
writes); after each BATCH message the stream writes the state as it is at that moment.

That state claims only records in files already announced: a stream moves its bookmark while
it reads a record, never ahead of it, and the SDK's batchers take exactly `batch_size` records
and then write the file, so between two batches the reading is paused just after the last
record the file holds.
"""

from __future__ import annotations

import typing as t
from contextlib import contextmanager

from singer_sdk.helpers._state import StateWriter
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers import types


class StateGate(StateWriter):
    """The tap's STATE writer: as the SDK's, except that it holds STATE while a batch is filled."""

    _filling = 0  # batches being filled: a child stream fills its own inside its parent's

    @contextmanager
    def filling_batches(self) -> Iterator[None]:
        self._filling += 1
        try:
            yield
        finally:
            self._filling -= 1

    @override
    def write_state(self, state: types.TapState) -> None:
        if not self._filling:
            super().write_state(state)

    def write_after_batch(self, state: types.TapState) -> None:
        """The state once every record read so far is in a file a BATCH message announced."""
        super().write_state(state)
