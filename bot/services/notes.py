"""Private notes to the admins, queued in the durable outbox like any message the bot sends.

The feed service tells this one that a feed has been failing for an hour, or reads again; each
admin gets one outbox row (recorded before it goes, paced, retried), rendered from the text
catalogue when it is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiosqlite

from bot.models import Note
from bot.store import outbox
from bot.store.db import transaction

log = logging.getLogger(__name__)


class AdminNotes:
    """Queues notes for every admin (ADMIN_IDS) and wakes the deliverer."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        admin_ids: frozenset[int],
        *,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.conn = conn
        self.admin_ids = admin_ids
        self.on_queued = on_queued

    async def queue(self, note: Note) -> int:
        """One outbox row per admin, in one transaction; returns how many were queued."""
        if not self.admin_ids:
            log.info("note %s not queued: ADMIN_IDS is empty", note.key)
            return 0
        now = time.time()
        async with transaction(self.conn):
            for admin in sorted(self.admin_ids):
                await outbox.enqueue_note(self.conn, str(admin), note, now=now)
        self.on_queued()
        return len(self.admin_ids)

    async def feed_failing(self, url: str, since: float, error: str) -> None:
        """The feed at ``url`` has failed every poll since ``since``."""
        await self.queue(Note("feed_failing", {"url": url, "since": since, "error": error}))

    async def feed_recovered(self, url: str, since: float) -> None:
        """The feed at ``url`` reads again after failing since ``since``."""
        await self.queue(Note("feed_recovered", {"url": url, "since": since}))
