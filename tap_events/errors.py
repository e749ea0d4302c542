"""The exception types: what ends a partition, what ends a query, what is retried is the SDK's."""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


class APIRequestError(FatalAPIError):
    """A request the API refused for good: the message names stream, endpoint, status and code.

    It ends the partition being read, not the run (`TapEventsStream.partition_failed`).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        #: The HTTP status, when the API answered: a 401 refuses the credential for the whole run.
        self.status = status


class PartitionNotFoundError(FatalAPIError):
    """A parent resource (workspace, service, environment) disappeared between listing and read."""


class ResultCapReached(APIRequestError):
    """A query reached the API's per-query result cap: its window must be read in smaller pieces."""


class ResultCapError(APIRequestError):
    """A window still reaches the per-query result cap and cannot be split any further."""
