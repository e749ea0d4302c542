"""Placeholder: the telnyx streams are built in their own issue."""

from __future__ import annotations

import typing as t

STREAMS: list[t.Any] = []
