from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator with the default data set on a free loopback port."""
    with Emulator() as running:
        yield running


@pytest.fixture
def twilio_config(emulator: Emulator) -> dict:
    """Twilio only: the Telnyx streams are skipped."""
    return emulator.tap_config(telnyx_api_key=None)
