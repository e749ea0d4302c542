"""tap-events with the SDK's own record loop: the variant `tap-sdk-loop` of `benchmarks/run.py`.

    python -m benchmarks.tap_sdk_loop --config C --catalog K

Issue #23 asks whether the tap's copy of the SDK's `_sync_records` (a page at a time,
`TapEventsStream._sync_records`) still earns its place against the SDK's loop (a record at a
time) with `TYPE_CONFORMANCE_LEVEL = NONE`. This runs the same tap, changed in this process
only: every stream's `_sync_records` is the SDK's `Stream._sync_records` and no value is
conformed. Everything else (paging, windows, the RECORD writer of `_write_record_message`) is
the tap's. The package itself is not changed.
"""

from __future__ import annotations

from singer_sdk.helpers._typing import TypeConformanceLevel
from singer_sdk.streams.core import Stream

from tap_events.client import TapEventsStream
from tap_events.tap import TELNYX_STREAMS, TWILIO_STREAMS, TapEvents


def use_the_sdk_loop() -> None:
    """The SDK's loop and no conformance on every stream the tap has; fails if a stream would
    still run a loop of its own (a subclass overriding `_sync_records` below the base stream)."""
    TapEventsStream._sync_records = Stream._sync_records  # type: ignore[method-assign]
    TapEventsStream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    for stream_type in (*TWILIO_STREAMS, *TELNYX_STREAMS):
        assert stream_type._sync_records is Stream._sync_records, stream_type
        assert stream_type.TYPE_CONFORMANCE_LEVEL is TypeConformanceLevel.NONE, stream_type


if __name__ == "__main__":
    use_the_sdk_loop()
    TapEvents.cli()
