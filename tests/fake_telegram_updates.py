"""getUpdates semantics for the fake server: offsets, long polling, 409 conflicts (rules.md §4)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from tests.fake_telegram_model import ApiError

log = logging.getLogger(__name__)

LONG_POLL_MAX_TIMEOUT = 50
ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_ALLOWED = ALL_UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
CONFLICT_OTHER = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use "
    "deleteWebhook to delete the webhook first"
)


def update_type(update: dict[str, Any]) -> str:
    """The update's kind: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), "")


class _Poll:
    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.conflict = False
        self.waiting = False


class UpdateQueue:
    """Pending updates; an update is confirmed only by a later call with a larger offset."""

    def __init__(self, first_update_id: int, notify: Callable[[], None]) -> None:
        self.next_id = first_update_id
        self.confirmed_offset = 0  # every update_id below this is confirmed (forgotten)
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self.pending: list[dict[str, Any]] = []
        self.delivered: list[int] = []  # update_ids in delivery order; repeats = redeliveries
        self.dropped: list[dict[str, Any]] = []  # pushed but not allowed by allowed_updates
        self.pushed_at: dict[int, float] = {}
        self.conflicts = 0
        self._active: _Poll | None = None
        self._closed = False
        self._notify = notify

    def push(self, update: dict[str, Any], now: float) -> dict[str, Any]:
        """Queue an update (assigning update_id if missing) unless allowed_updates filters it."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.next_id
        self.next_id = max(self.next_id, update["update_id"] + 1)
        self.pushed_at[update["update_id"]] = now
        if update_type(update) not in self.allowed:
            self.dropped.append(update)
        else:
            self.pending.append(update)
            self.pending.sort(key=lambda u: u["update_id"])
            if self._active is not None:
                self._active.event.set()
        self._notify()
        return update

    def confirm(self, offset: int) -> None:
        """Apply a getUpdates offset: positive confirms below it, -N keeps only the last N."""
        if offset > 0:
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0:
            keep = self.pending[offset:]
            self.confirmed_offset = keep[0]["update_id"] if keep else self.next_id
        self.pending = [u for u in self.pending if u["update_id"] >= self.confirmed_offset]

    def drop_pending(self) -> None:
        """deleteWebhook(drop_pending_updates=true)."""
        self.confirmed_offset = self.next_id
        self.pending.clear()

    @property
    def polling(self) -> bool:
        """Whether a getUpdates call is waiting for updates right now."""
        return self._active is not None and self._active.waiting

    def close(self) -> None:
        """Release every long poll (server shutdown)."""
        self._closed = True
        if self._active is not None:
            self._active.event.set()

    def set_allowed(self, allowed: list[str]) -> None:
        """allowed_updates of getUpdates or setWebhook (sticky; [] means the default)."""
        self.allowed = frozenset(allowed) & ALL_UPDATE_TYPES or DEFAULT_ALLOWED

    async def get(
        self, *, offset: int, limit: int, timeout: int, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        """One getUpdates call; a newer call ends this one with 409."""
        if allowed is not None:
            self.set_allowed(allowed)
        self.confirm(offset)
        limit = min(max(limit, 1), 100)
        timeout = min(max(timeout, 0), LONG_POLL_MAX_TIMEOUT)
        previous, poll = self._active, _Poll()
        if previous is not None:
            previous.conflict = True
            previous.event.set()
        self._active = poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.conflict:
                    self.conflicts += 1
                    raise ApiError(409, CONFLICT_OTHER, kind="conflict")
                remaining = deadline - loop.time()
                if self.pending or remaining <= 0 or self._closed:
                    batch = self.pending[:limit]
                    self.delivered.extend(u["update_id"] for u in batch)
                    return batch
                poll.event.clear()
                if not poll.waiting:
                    poll.waiting = True
                    self._notify()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.event.wait(), remaining)
        finally:
            if self._active is poll:
                self._active = None
