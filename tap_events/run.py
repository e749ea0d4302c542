"""What every stream of one run shares: its report, its per-credential limits, progress and output.

`TapEvents` makes one `RunContext` and hands it to each stream it builds (`run=`), so a stream
never reaches the tap for them (the SDK's `Stream._tap` is private, and would make the base
stream import `tap.py`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from functools import cached_property

from tap_events.limits import Limits
from tap_events.report import RunReport, StreamProgress
from tap_events.state_pacing import StatePacing

if t.TYPE_CHECKING:
    import logging

    from singer_sdk.io_base import GenericSingerWriter

    from tap_events.batches import StateGate


class AccountDirectory(t.Protocol):
    """The run's Twilio accounts by SID (`subaccounts.TwilioDirectory`: subaccounts are found at run
    time, once, whichever stream asks first). A protocol: this module stays below the providers."""

    def accounts(self) -> dict[str, t.Any]: ...


@dataclass
class RunContext:
    """The run's shared objects, created once by the tap before its streams."""

    #: Where RECORD lines go: the tap's message writer (`output.EventsWriter` for the fast path).
    writer: GenericSingerWriter
    #: The tap's STATE writer, which holds STATE while a batch file is filled (batches.py).
    state_gate: StateGate
    #: Failed partitions, gaps and each partition's figures, said again when the run ends.
    report: RunReport = field(default_factory=RunReport)
    #: Requests in flight and request rates per credential (limits.py).
    limits: Limits = field(default_factory=Limits)
    #: Seconds between two progress lines of a stream (`progress_interval_seconds`).
    progress_interval_seconds: float = 5.0
    #: Every Twilio account of the run in its shard, subaccounts found at run time (subaccounts.py);
    #: set by the tap, which knows the settings.
    twilio_accounts: AccountDirectory = field(init=False)

    @cached_property
    def state_pacing(self) -> StatePacing:
        """Whether a STATE is due: after as many RECORD bytes as the last STATE held (state_pacing.py)."""
        return StatePacing(self.writer)

    def progress(self, stream_name: str, logger: logging.Logger) -> StreamProgress:
        """A stream's progress lines, counted in the run's report."""
        return StreamProgress(stream_name, self.report, logger, self.progress_interval_seconds)
