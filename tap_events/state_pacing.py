"""How often STATE is written: when the RECORD bytes written since the last STATE reach its size.

Every STATE carries every partition's bookmark of the run, so one per window (or per page, or
per partition) grows as partitions x windows: 1,000 sparse partitions would write gigabytes of
STATE for megabytes of records. A stream still moves its bookmarks in memory as each window is
written whole (the state always claims only records written: a SIGTERM writes it as it is), and
asks `StatePacing.due` before writing STATE: so STATE bytes stay below RECORD bytes plus the last
STATE, and a `kill -9` loses nothing (a resume re-reads what the last STATE did not claim). The
ends of a stream and of the run write STATE whatever the pace (the SDK's loop, `sync_all`), and
in BATCH mode the state follows each BATCH message (batches.py).
"""

from __future__ import annotations

import typing as t

from tap_events.output import EventsWriter

if t.TYPE_CHECKING:
    from singer_sdk.io_base import GenericSingerWriter


class StatePacing:
    """Whether a STATE is due, from the run's writer's counts (`EventsWriter`)."""

    def __init__(self, writer: GenericSingerWriter) -> None:
        self._writer = writer if isinstance(writer, EventsWriter) else None

    def due(self) -> bool:
        """True once the RECORD bytes since the last STATE reach that STATE's size (always, with a
        writer that does not count them)."""
        writer = self._writer
        if writer is None:
            return True
        return writer.record_bytes - writer.record_bytes_at_last_state >= writer.last_state_bytes
