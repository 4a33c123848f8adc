"""Counts for monitoring: is the database answering, and how full are the outbox and archive.

Read at scrape time (``/metrics``, ``/readyz``) and cached by the caller for a few seconds: the
outbox count is a scan of its status index, cheap but not free on a long history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiosqlite

from bot.store import subscribers


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """What the store gauges show at one moment (times are unix seconds)."""

    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    """(kind, status) → rows."""
    oldest_queued: dict[str, float] = field(default_factory=dict)
    """kind → created_at of its oldest queued row."""
    last_channel_post: dict[str, float] = field(default_factory=dict)
    """channel chat id → sent_at of its newest post."""
    articles: dict[str, int] = field(default_factory=dict)
    """state (visible, withdrawn, duplicate: extra copies of a seed article) → count."""
    subscribers: int = 0
    """Private chats with at least one subscription."""
    subscriptions: int = 0


async def ping(conn: aiosqlite.Connection) -> None:
    """One trivial query: raises when the database does not answer."""
    async with conn.execute("SELECT 1") as cur:
        await cur.fetchone()


async def snapshot(conn: aiosqlite.Connection) -> StoreSnapshot:
    """Every store gauge in a handful of grouped queries."""
    outbox: dict[tuple[str, str], int] = {}
    async with conn.execute(
        "SELECT kind, status, count(*) FROM deliveries GROUP BY kind, status"
    ) as cur:
        for kind, status, n in await cur.fetchall():
            outbox[(str(kind), str(status))] = int(n)
    async with conn.execute(
        "SELECT kind, MIN(created_at) FROM deliveries WHERE status = 'queued' GROUP BY kind"
    ) as cur:
        oldest = {str(kind): float(at) for kind, at in await cur.fetchall()}
    async with conn.execute(
        "SELECT chat_id, MAX(sent_at) FROM deliveries WHERE kind = 'channel' "
        "AND status = 'sent' GROUP BY chat_id"
    ) as cur:
        posts = {str(chat): float(at) for chat, at in await cur.fetchall()}
    async with conn.execute(
        "SELECT CASE WHEN withdrawn THEN 'withdrawn' ELSE 'visible' END, count(*) "
        "FROM articles GROUP BY 1"
    ) as cur:
        states = {str(state): int(n) for state, n in await cur.fetchall()}
    # A duplicate is a present seed file beyond the first one of its article (a copy, issue 11).
    async with conn.execute(
        "SELECT count(*) - count(DISTINCT article_id) FROM seed_files WHERE gone_at IS NULL"
    ) as cur:
        row = await cur.fetchone()
    states["duplicate"] = int(row[0]) if row else 0
    chats, subs = await subscribers.counts(conn)
    return StoreSnapshot(outbox, oldest, posts, states, chats, subs)
