"""Small key/value state: pause flag, backlog marker, migrated chat ids (writers hold the lock)."""

from __future__ import annotations

import logging

import aiosqlite

log = logging.getLogger(__name__)

CHANNEL_PAUSED = "channel_paused"
"""'1' while channel posting is paused (by an admin or by a 400/403 from the channel)."""
PAUSED_REASON = "paused_reason"
BACKLOG_DONE = "backlog_done"
"""Present once the first scan's backlog was decided (only POST_BACKLOG newest queued)."""
INDEX_WRITES = "index_writes"
"""Articles added or changed since the full-text index was last merged into one segment."""
MIGRATED_PREFIX = "chat_migrated:"
"""``chat_migrated:<old id>`` -> new id after Telegram's migrate_to_chat_id."""


async def get(conn: aiosqlite.Connection, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    async with conn.execute("SELECT value FROM state WHERE key = :key", {"key": key}) as cur:
        row = await cur.fetchone()
    return None if row is None else str(row[0])


async def put(conn: aiosqlite.Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (caller holds the write lock)."""
    await conn.execute(
        "INSERT INTO state (key, value) VALUES (:key, :value) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"key": key, "value": value},
    )


async def delete(conn: aiosqlite.Connection, *keys: str) -> None:
    """Forget these keys (caller holds the write lock)."""
    for key in keys:
        await conn.execute("DELETE FROM state WHERE key = :key", {"key": key})


async def paused(conn: aiosqlite.Connection) -> str | None:
    """The pause reason while channel posting is paused, else None."""
    if await get(conn, CHANNEL_PAUSED) != "1":
        return None
    return await get(conn, PAUSED_REASON) or "paused"


async def set_paused(conn: aiosqlite.Connection, reason: str | None) -> None:
    """Pause channel posting with ``reason``, or resume it when ``reason`` is None."""
    if reason is None:
        await delete(conn, CHANNEL_PAUSED, PAUSED_REASON)
    else:
        await put(conn, CHANNEL_PAUSED, "1")
        await put(conn, PAUSED_REASON, reason)


async def resolve_chat(conn: aiosqlite.Connection, chat_id: str) -> str:
    """The chat id to use now for ``chat_id``, following recorded migrations."""
    seen = {chat_id}
    while (new := await get(conn, MIGRATED_PREFIX + chat_id)) is not None and new not in seen:
        seen.add(new)
        chat_id = new
    return chat_id


async def record_migration(conn: aiosqlite.Connection, old: str, new: str) -> None:
    """Remember that ``old`` became ``new`` (caller holds the write lock)."""
    await put(conn, MIGRATED_PREFIX + old, new)
