"""Local emulator of the Twilio and Telnyx APIs tap-events reads (for tests, demo, benchmarks)."""

from __future__ import annotations

from emulator.server import Emulator

__all__ = ["Emulator"]
