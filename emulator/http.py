"""What the emulator's core (`server.py`) and every API module share: the request and response
types, the APIs' error answers, the default credentials and the retention readings.

Its own module so that `server.py` can import the API modules at the top while they import these.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from dataclasses import dataclass, field

import orjson

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "emulator-auth-token"
DEFAULT_API_KEY_SID = "SK" + "fedcba9876543210" * 2
DEFAULT_API_KEY_SECRET = "emulator-api-key-secret"
DEFAULT_TELNYX_API_KEY = "KEYemulator-telnyx-api-key"
#: How an API answers a query reaching further back than it keeps data: serve only what it
#: keeps, silently ("trim"), or refuse it with HTTP 400 ("refuse"). Each API has its
#: `retention_answer` switch, so that tests run the tap under both readings.
RETENTION_ANSWERS = ("trim", "refuse")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    url: str

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: t.Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        try:
            return orjson.dumps(self.body)
        except orjson.JSONEncodeError:  # a lone surrogate (valid JSON text, escaped): what orjson cannot write
            return json.dumps(self.body, separators=(",", ":")).encode()


class HTTPError(Exception):
    """Raised by a handler to answer with an API error."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def twilio_error(status: int, code: int, message: str) -> HTTPError:
    return HTTPError(
        Response(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )
    )


def telnyx_error(status: int, code: str, title: str, detail: str) -> HTTPError:
    return HTTPError(Response(status, {"errors": [{"code": code, "title": title, "detail": detail}]}))
