"""Local emulator of the Twilio and Telnyx APIs tap-events reads (for tests, demo, benchmarks)."""

from __future__ import annotations

from emulator.monitor import MonitorAPI

#: One class per API; each gets the emulator and the size keywords, and exposes `routes()`.
API_TYPES: list[type] = [MonitorAPI]

from emulator.server import Emulator  # noqa: E402

__all__ = ["API_TYPES", "Emulator"]
