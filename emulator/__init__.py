"""Local emulator of the Twilio and Telnyx APIs tap-events reads (for tests, demo, benchmarks)."""

from __future__ import annotations

from emulator.monitor import MonitorAPI
from emulator.serverless import ServerlessAPI
from emulator.taskrouter import TaskRouterAPI
from emulator.telnyx import TelnyxAPI

#: One class per API; each gets the emulator and the size keywords, and exposes `routes()`.
#: Each is reachable as an attribute named after its `name` (`emulator.monitor`, ...).
API_TYPES: list[type] = [MonitorAPI, TaskRouterAPI, ServerlessAPI, TelnyxAPI]

from emulator.server import Emulator  # noqa: E402

__all__ = ["API_TYPES", "Emulator"]
