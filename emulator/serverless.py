"""Placeholder: Twilio Serverless is emulated in its own issue."""

from __future__ import annotations

import typing as t


class ServerlessAPI:
    name = "serverless"

    def __init__(self, emulator: t.Any, **_: t.Any) -> None:
        self.emulator = emulator

    def routes(self) -> list[t.Any]:
        return []
