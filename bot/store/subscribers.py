"""Readers' subscriptions: every new article (query '') or only those matching a keyword query.

Writers hold ``db.write_lock(conn)``; these functions never open transactions themselves.
"""

from __future__ import annotations

import logging

import aiosqlite

from bot.models import Subscription

log = logging.getLogger(__name__)


def _subscription(row: aiosqlite.Row) -> Subscription:
    return Subscription(row["id"], int(row["chat_id"]), row["query"], row["created_at"])


async def add(conn: aiosqlite.Connection, chat_id: int, query: str, *, now: float) -> bool:
    """Add a subscription; False when the chat already has exactly this one."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO subscriptions (chat_id, query, created_at) "
        "VALUES (:chat, :query, :now)",
        {"chat": chat_id, "query": query, "now": now},
    )
    return cur.rowcount == 1


async def for_chat(conn: aiosqlite.Connection, chat_id: int) -> list[Subscription]:
    """This chat's subscriptions, oldest first."""
    async with conn.execute(
        "SELECT * FROM subscriptions WHERE chat_id = :chat ORDER BY id", {"chat": chat_id}
    ) as cur:
        return [_subscription(r) for r in await cur.fetchall()]


async def everyone(conn: aiosqlite.Connection) -> list[Subscription]:
    """Every subscription, for matching a new article against them."""
    async with conn.execute("SELECT * FROM subscriptions ORDER BY id") as cur:
        return [_subscription(r) for r in await cur.fetchall()]


async def remove(conn: aiosqlite.Connection, chat_id: int, subscription_id: int) -> bool:
    """Remove one subscription of this chat (another chat's id does nothing)."""
    cur = await conn.execute(
        "DELETE FROM subscriptions WHERE id = :id AND chat_id = :chat",
        {"id": subscription_id, "chat": chat_id},
    )
    return cur.rowcount == 1


async def remove_all(conn: aiosqlite.Connection, chat_id: int) -> int:
    """Remove every subscription of this chat; returns how many there were."""
    cur = await conn.execute("DELETE FROM subscriptions WHERE chat_id = :chat", {"chat": chat_id})
    return cur.rowcount


async def counts(conn: aiosqlite.Connection) -> tuple[int, int]:
    """(distinct subscribed chats, subscriptions) for /stats."""
    async with conn.execute("SELECT count(DISTINCT chat_id), count(*) FROM subscriptions") as cur:
        row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
