"""Per-target state: a target (chat, forum topic) paused alone, and its counts for /stats.

A target is keyed ``chat|topic`` (topic empty for the chat itself), with the chat id its outbox
rows carry. Writers hold ``db.write_lock(conn)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class TargetCounts:
    """One target's channel rows: posts queued and sent, edits sent, anything failed."""

    queued: int = 0
    sent: int = 0
    edited: int = 0
    failed: int = 0


def target_key(chat_id: str, topic: int | None) -> str:
    """The target_state key of a chat (and topic)."""
    return f"{chat_id}|{'' if topic is None else topic}"


async def pause(conn: aiosqlite.Connection, key: str, reason: str, *, now: float) -> None:
    """Pause one target (Telegram refused it for good); its queue is kept."""
    await conn.execute(
        "INSERT INTO target_state (target, paused, paused_at) VALUES (:key, :reason, :now) "
        "ON CONFLICT (target) DO UPDATE SET paused = excluded.paused, "
        "paused_at = excluded.paused_at",
        {"key": key, "reason": reason[:500], "now": now},
    )


async def resume(conn: aiosqlite.Connection, key: str | None = None) -> int:
    """Resume one paused target, or every one (``key`` None); how many were paused."""
    cur = await conn.execute(
        "DELETE FROM target_state WHERE :key IS NULL OR target = :key", {"key": key}
    )
    return cur.rowcount


async def paused(conn: aiosqlite.Connection) -> dict[str, str]:
    """Every paused target's key and reason."""
    rows = await conn.execute_fetchall("SELECT target, paused FROM target_state ORDER BY target")
    return {str(r[0]): str(r[1]) for r in rows}


async def is_paused(conn: aiosqlite.Connection, chat_id: str, topic: int | None) -> bool:
    """Is this target paused alone?"""
    async with conn.execute(
        "SELECT 1 FROM target_state WHERE target = :key", {"key": target_key(chat_id, topic)}
    ) as cur:
        return await cur.fetchone() is not None


async def counts(conn: aiosqlite.Connection) -> dict[tuple[str, int | None], TargetCounts]:
    """Per (chat, topic) that has channel rows: queued and sent posts, sent edits, failures."""
    rows = await conn.execute_fetchall(
        "SELECT chat_id, topic, SUM(action = 'send' AND status = 'queued'), "
        "SUM(action = 'send' AND status = 'sent'), SUM(action = 'edit' AND status = 'sent'), "
        "SUM(status = 'failed') FROM deliveries WHERE kind = 'channel' GROUP BY chat_id, topic "
        "ORDER BY MIN(id)"
    )
    return {
        (str(r[0]), None if r[1] is None else int(r[1])): TargetCounts(*(int(n) for n in r[2:]))
        for r in rows
    }
