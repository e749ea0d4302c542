"""A parent stream's children synced over all the parent's records at once, not one at a time.

The SDK syncs a child stream once per parent record, as the parent's loop meets it
(`Stream._sync_children`): the child then knows only the partition in hand, and its partitions
(TaskRouter workspaces, Serverless environments) are read one after another. Here the parent
collects its children's contexts while it writes its records, and once the top of the tree is
written, syncs each child over all of them, one level after another; a child stream that reads
its partitions ahead (`TapEventsStream.set_upcoming`, partitions_ahead.py) is told
which partitions come. Each partition is still synced by the SDK's own `sync(context)`, so its
SCHEMA, STATE and record loop are as before.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Stream
from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Generator

    from singer_sdk.helpers.types import Context


class ChildPartitionsTogether(Stream):
    """A parent stream (a list: workspaces, services, environments) whose children are synced
    over every context it yields, after it."""

    @override
    def _sync_children(self, child_context: Context | None) -> None:
        """Collected, and synced by `sync_collected` once every record of the parent is written."""
        if child_context is None:
            super()._sync_children(child_context)  # the SDK's warning
            return
        self.__dict__.setdefault("_collected_children", []).append(child_context)

    @override
    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict, t.Any, t.Any]:
        """The SDK's loop (`sync` is final); then, at the top of the tree, every level below in turn."""
        yield from super()._sync_records(context, write_messages=write_messages)
        if self.parent_stream_type is None:
            self.sync_collected()

    def sync_collected(self) -> None:
        """Each child synced over every context collected, then the children's own children."""
        collected: list[Context] = self.__dict__.pop("_collected_children", [])
        for child in self.child_streams:
            if not (child.selected or child.has_selected_descendents):
                continue
            set_upcoming = getattr(child, "set_upcoming", None)
            if set_upcoming is not None:
                set_upcoming(collected)
            for context in collected:
                try:
                    child.sync(context=dict(context))
                except (AbortedSyncFailedException, AbortedSyncPausedException):
                    continue  # as the SDK's `_sync_children`: the other partitions are synced
            if isinstance(child, ChildPartitionsTogether):
                child.sync_collected()
