"""Follow-ups in the outbox: edits of sent messages, withdrawals, admin notes, corrections.

A *send* row (action 'send') is one message in one chat; once sent it remembers what that
message shows now: the article ``revision``, ``shown`` ('article' | 'notice' | 'deleted' |
'lost') and a ``digest`` of its text and buttons. When the article's revision moves past it, one
*follow-up* row (action 'edit', ``parent_id`` = the send row) is queued; the unique index
``deliveries_followup`` keeps at most one queued per message, and the deliverer renders the
article as it is when the follow-up goes, so the latest text always wins (admin notes: rows of
kind 'note', services/notes.py). Writers hold ``db.write_lock(conn)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.store import corrections
from bot.store.db import scalar
from bot.store.outbox import Delivery

WITHDRAWN = "article withdrawn"
"""last_error of a send cancelled because its article was withdrawn (re-queued on return)."""


@dataclass(frozen=True, slots=True)
class CorrectionStats:
    """Counts for /stats: corrected articles and the follow-ups they caused."""

    articles: int
    corrections: int
    edited: int
    queued: int
    failed: int


_STALE = (
    "SELECT d.id FROM articles a JOIN deliveries d ON d.article_id = a.id "
    "AND d.action = 'send' AND d.status = 'sent' "
    "WHERE a.revision > 1 AND d.revision < a.revision AND d.message_id IS NOT NULL "
    "AND d.shown != 'lost' AND (d.kind = 'channel' OR d.sent_at > :alert_since) "
    "AND NOT (a.withdrawn = 1 AND :keep) "
    "AND NOT EXISTS (SELECT 1 FROM deliveries f WHERE f.parent_id = d.id AND f.status = 'queued')"
)
"""Sent messages that show an older revision than their article's and wait for no follow-up;
every send records its revision, so only articles past revision 1 can have any."""


async def queue_stale(
    conn: aiosqlite.Connection, *, now: float, alert_since: float, keep_withdrawn: bool
) -> int:
    """Queue one follow-up for every stale message (alerts only if sent after
    ``alert_since``; withdrawn articles not at all when ``keep_withdrawn``)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO deliveries (article_id, chat_id, kind, action, parent_id, "
        "created_at, next_try_at, topic) "
        "SELECT p.article_id, p.chat_id, p.kind, 'edit', p.id, :now, 0, p.topic "
        f"FROM deliveries p WHERE p.id IN ({_STALE}) ORDER BY p.id",
        {"now": now, "alert_since": alert_since, "keep": int(keep_withdrawn)},
    )
    return cur.rowcount


async def queue_one(conn: aiosqlite.Connection, parent_id: int, *, now: float) -> bool:
    """Queue a follow-up for this sent message unless one is queued already."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO deliveries (article_id, chat_id, kind, action, parent_id, "
        "created_at, next_try_at, topic) SELECT article_id, chat_id, kind, 'edit', id, :now, 0, "
        "topic "
        "FROM deliveries WHERE id = :id",
        {"id": parent_id, "now": now},
    )
    return cur.rowcount == 1


async def cancel_withdrawn(conn: aiosqlite.Connection) -> int:
    """Cancel the queued sends of withdrawn articles."""
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = :reason, claim_token = NULL "
        "WHERE status = 'queued' AND action = 'send' AND claim_token IS NULL AND article_id IN "
        "(SELECT id FROM articles WHERE withdrawn = 1)",
        {"reason": WITHDRAWN},
    )
    return cur.rowcount


async def requeue_restored(conn: aiosqlite.Connection) -> int:
    """Queue again the sends cancelled by a withdrawal whose article is back."""
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'queued', last_error = NULL, next_try_at = 0 "
        "WHERE status = 'cancelled' AND action = 'send' AND last_error = :reason AND article_id "
        "IN (SELECT id FROM articles WHERE withdrawn = 0)",
        {"reason": WITHDRAWN},
    )
    return cur.rowcount


async def finish(
    conn: aiosqlite.Connection,
    d: Delivery,
    *,
    claim: str | None,
    now: float,
    done: str,
    revision: int,
    shown: str,
    digest: str | None,
    sent: bool = True,
    message_id: int | None = None,
) -> None:
    """A follow-up went out (``sent``) or had nothing to send (it is then cancelled with
    ``done`` as the reason): record it and what the message shows now.

    ``message_id`` set means the message was sent anew (after a deletion): the send row then
    points at the new message and its 48 hours start again.
    """
    cur = await conn.execute(
        "UPDATE deliveries SET status = CASE WHEN :sent THEN 'sent' ELSE 'cancelled' END, "
        "sent_at = :now, done = :done, revision = :revision, message_id = :mid, "
        "attempts = attempts + :sent, last_error = CASE WHEN :sent THEN NULL ELSE :done END, "
        "claim_token = NULL WHERE id = :id AND (:claim IS NULL OR claim_token = :claim)",
        {
            "id": d.id,
            "claim": claim,
            "now": now,
            "done": done,
            "revision": revision,
            "mid": message_id,
            "sent": int(sent),
        },
    )
    if cur.rowcount != 1:
        return  # no longer our claim: whoever holds it records the outcome
    await conn.execute(
        "UPDATE deliveries SET revision = :revision, shown = :shown, digest = :digest, "
        "message_id = COALESCE(:mid, message_id), "
        "sent_at = CASE WHEN :mid IS NULL THEN sent_at ELSE :now END, "
        "delete_refused = CASE WHEN :mid IS NULL THEN delete_refused ELSE 0 END WHERE id = :id",
        {
            "id": d.parent_id,
            "revision": revision,
            "shown": shown,
            "digest": digest,
            "mid": message_id,
            "now": now,
        },
    )


async def fail(
    conn: aiosqlite.Connection, d: Delivery, *, error: str, claim: str | None, lost: bool
) -> None:
    """Give up on a follow-up: it is failed with ``error``, and its message is not followed
    again before the article's next change; ``lost`` (the message is gone, "message to edit
    not found") means never again, and the article is not posted anew either."""
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'failed', last_error = :error, attempts = attempts + 1, "
        "claim_token = NULL WHERE id = :id AND (:claim IS NULL OR claim_token = :claim)",
        {"id": d.id, "error": error[:500], "claim": claim},
    )
    if cur.rowcount != 1:
        return
    await conn.execute(
        "UPDATE deliveries SET shown = CASE WHEN :lost THEN 'lost' ELSE shown END, revision = "
        "(SELECT revision FROM articles WHERE id = deliveries.article_id) WHERE id = :id",
        {"id": d.parent_id, "lost": int(lost)},
    )


async def refuse_delete(conn: aiosqlite.Connection, d: Delivery) -> None:
    """Telegram will not delete this message: the next try shows the notice instead."""
    await conn.execute(
        "UPDATE deliveries SET delete_refused = 1 WHERE id = :id", {"id": d.parent_id}
    )


async def correction_stats(conn: aiosqlite.Connection) -> CorrectionStats:
    """Corrected articles and corrections, and follow-ups sent, queued and failed."""
    counts = {
        str(r[0]): int(r[1])
        for r in await conn.execute_fetchall(
            "SELECT status, count(*) FROM deliveries WHERE action = 'edit' GROUP BY status"
        )
    }
    return CorrectionStats(
        articles=await scalar(conn, "SELECT count(DISTINCT article_id) FROM corrections"),
        corrections=await corrections.count(conn),
        edited=counts.get("sent", 0),
        queued=counts.get("queued", 0),
        failed=counts.get("failed", 0),
    )
