"""Placeholder: Twilio TaskRouter is emulated in its own issue."""

from __future__ import annotations

import typing as t


class TaskRouterAPI:
    name = "taskrouter"

    def __init__(self, emulator: t.Any, **_: t.Any) -> None:
        self.emulator = emulator

    def routes(self) -> list[t.Any]:
        return []
