"""The Singer SDK's standard tap tests, run against the local emulator."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from emulator import Emulator
from tap_events.tap import TapEvents

# The standard suite takes its config when the class is built, so the emulator starts here.
EMULATOR = Emulator(monitor_events=120, monitor_alerts=40).start()
atexit.register(EMULATOR.stop)

TestTapEvents = get_tap_test_class(tap_class=TapEvents, config=EMULATOR.tap_config())
