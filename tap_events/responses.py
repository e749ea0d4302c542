"""A response's JSON body, parsed once while it is validated, and the context it answers."""

from __future__ import annotations

import typing as t

import orjson
import requests

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


_BODY_ATTRIBUTE = "_tap_events_body"
_CONTEXT_ATTRIBUTE = "_tap_events_context"


def response_body(response: requests.Response) -> t.Any:
    """The JSON body, parsed once while the response was validated."""
    if _BODY_ATTRIBUTE not in response.__dict__:
        response.__dict__[_BODY_ATTRIBUTE] = orjson.loads(response.content)
    return response.__dict__[_BODY_ATTRIBUTE]


def attach_context(response: requests.Response, context: Context | None) -> None:
    """Keep the context (partition and window) with the response that answers it."""
    response.__dict__[_CONTEXT_ATTRIBUTE] = context


def response_context(response: requests.Response) -> Context:
    """The context (partition and window) of the request this response answers."""
    return t.cast("Context", response.__dict__.get(_CONTEXT_ATTRIBUTE) or {})
