"""What corrections, withdrawals and returns need from the outbox, queued once per tick.

Ingest bumps an article's revision on every visible change (store/articles.py); here, in one
transaction: queued sends of withdrawn articles are cancelled, sends cancelled by a withdrawal
come back with their article, every sent message that shows an older revision gets one pending
follow-up (rendered from the article as it is when it goes: bot/services/edits.py), and each
corrected article becomes one private note per admin. Notes go through the outbox like posts.
"""

from __future__ import annotations

import logging
import time

import aiosqlite

from bot.models import Note
from bot.services.notes import queue_notes
from bot.store import approvals, articles, corrections
from bot.store import followups as store
from bot.store.db import transaction

log = logging.getLogger(__name__)

ALERT_WINDOW = 48 * 3600.0
"""Subscriber alerts older than this are left as they are (the reader has moved on)."""
DELETE_WINDOW = 48 * 3600.0
"""Telegram lets a bot delete its messages this long after sending them."""


async def _correction_notes(
    conn: aiosqlite.Connection, admin_ids: frozenset[int], *, now: float
) -> int:
    """One note per corrected article (its un-noted corrections merged) to every admin; none
    for an article still waiting for approval, whose previews are edited instead."""
    pending = await corrections.unnoted(conn)
    merged: dict[int, list[str]] = {}
    for c in pending:
        fields = merged.setdefault(c.article_id, [])
        fields += [f for f in c.fields if f not in fields]
    queued = 0
    for article_id, fields in merged.items():
        article = await articles.get_article(conn, article_id)
        if article is None:  # withdrawn meanwhile: the withdrawal says enough
            continue
        approval = await approvals.get(conn, article_id)
        if approval is None or approval.status != "pending":  # pending: its previews show it
            values = {"title": article.title[:300], "fields": ",".join(fields)}
            note = Note("correction_note", values | {"article": str(article_id)})
            queued += await queue_notes(conn, admin_ids, note, now=now)
    await corrections.mark_noted(conn, [c.id for c in pending])
    return queued


async def queue_followups(
    conn: aiosqlite.Connection, *, admin_ids: frozenset[int], keep_withdrawn: bool
) -> int:
    """Cancel, re-queue, queue follow-ups and admin notes; returns how many rows were queued."""
    now = time.time()
    async with transaction(conn):
        cancelled = await store.cancel_withdrawn(conn)
        returned = await store.requeue_restored(conn)
        edits = await store.queue_stale(
            conn, now=now, alert_since=now - ALERT_WINDOW, keep_withdrawn=keep_withdrawn
        )
        notes = await _correction_notes(conn, admin_ids, now=now)
    if cancelled or returned or edits or notes:
        log.info(
            "follow-ups: %d send(s) cancelled (withdrawn), %d back, %d message(s) to update, "
            "%d admin note(s)",
            cancelled,
            returned,
            edits,
            notes,
        )
    return returned + edits + notes
