"""Telnyx's official Python library pages through the emulator's audit events: its pages are genuine."""

from __future__ import annotations

import datetime as dt

import pytest
import telnyx

from emulator.server import DEFAULT_TELNYX_API_KEY
from tests.common import parse
from tests.telnyx_helpers import events

pytestmark = pytest.mark.telnyx_data  # the `emulator` fixture holds the Telnyx data set


def _client(emulator, api_key: str = DEFAULT_TELNYX_API_KEY) -> telnyx.Telnyx:
    return telnyx.Telnyx(api_key=api_key, base_url=f"{emulator.base_url}/v2", max_retries=0)


def test_telnyx_library_lists_every_event_once_oldest_first(emulator):
    listed = list(_client(emulator).audit_events.list(page_size=37, sort="asc"))

    assert [event.id for event in listed] == [event["id"] for event in events(emulator)]


def test_telnyx_library_lists_the_events_created_after_a_date(emulator):
    after = emulator.now - dt.timedelta(days=1)

    listed = _client(emulator).audit_events.list(
        filter={"created_after": after.strftime("%Y-%m-%dT%H:%M:%SZ")}, page_size=20
    )

    assert {event.id for event in listed} == {e["id"] for e in events(emulator) if parse(e["created_at"]) > after}


def test_a_wrong_api_key_is_the_librarys_authentication_error(emulator):
    with pytest.raises(telnyx.AuthenticationError) as raised:
        _client(emulator, api_key="KEYnot-a-real-key").audit_events.list()

    assert raised.value.status_code == 401
