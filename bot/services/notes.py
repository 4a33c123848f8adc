"""Private notes to the admins, queued in the durable outbox like any message the bot sends.

The one way the bot writes to its admins on its own: a feed failing for an hour or reading
again (the feed service), a corrected article (services/followups.py), channel posting paused
(the deliverer). Each admin gets one outbox row of kind 'note' (recorded before it goes, paced,
retried) holding a ``Note``: a text catalogue key and its values, rendered when it is sent.
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


async def queue_notes(
    conn: aiosqlite.Connection, admin_ids: frozenset[int], note: Note, *, now: float
) -> int:
    """One outbox row per admin; the caller holds the write lock (or the transaction)."""
    if not admin_ids:
        log.info("note %s not queued: ADMIN_IDS is empty", note.key)
    for admin in sorted(admin_ids):
        await outbox.enqueue_note(conn, str(admin), note, now=now)
    return len(admin_ids)


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
            return await queue_notes(self.conn, self.admin_ids, note, now=0)
        async with transaction(self.conn):
            queued = await queue_notes(self.conn, self.admin_ids, note, now=time.time())
        self.on_queued()
        return queued

    async def feed_failing(self, url: str, since: float, error: str) -> None:
        """The feed at ``url`` has failed every poll since ``since``."""
        await self.queue(Note("feed_failing", {"url": url, "since": since, "error": error}))

    async def feed_recovered(self, url: str, since: float) -> None:
        """The feed at ``url`` reads again after failing since ``since``."""
        await self.queue(Note("feed_recovered", {"url": url, "since": since}))
