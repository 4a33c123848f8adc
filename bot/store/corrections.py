"""Corrections of announced articles: one row per applied visible change, for the admins' note
and /stats. Ingest writes them in the change's transaction; delivery marks them noted."""

from __future__ import annotations

import aiosqlite

from bot.models import Correction
from bot.store.db import scalar


async def add_if_announced(
    conn: aiosqlite.Connection, article_id: int, *, fields: tuple[str, ...], now: float
) -> None:
    """Record a correction at the article's current revision when the article was announced
    (a change before that is no correction of anything delivered). Caller holds the
    transaction."""
    await conn.execute(
        "INSERT INTO corrections (article_id, revision, fields, created_at) "
        "SELECT id, revision, :fields, :now FROM articles WHERE id = :id AND announced = 1",
        {"id": article_id, "fields": ",".join(fields), "now": now},
    )


async def unnoted(conn: aiosqlite.Connection, limit: int = 100) -> list[Correction]:
    """Corrections no admin note was queued for yet, oldest first."""
    rows = await conn.execute_fetchall(
        "SELECT id, article_id, revision, fields, created_at FROM corrections WHERE noted = 0 "
        "ORDER BY id LIMIT :n",
        {"n": limit},
    )
    return [
        Correction(int(r[0]), int(r[1]), int(r[2]), tuple(f for f in r[3].split(",") if f), r[4])
        for r in rows
    ]


async def mark_noted(conn: aiosqlite.Connection, ids: list[int]) -> None:
    """These corrections have their admin note queued. Caller holds the transaction."""
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        await conn.execute(
            f"UPDATE corrections SET noted = 1 WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )


async def count(conn: aiosqlite.Connection) -> int:
    """Every correction ever recorded (/stats)."""
    return await scalar(conn, "SELECT count(*) FROM corrections")
