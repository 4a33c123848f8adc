"""Seed files and identity keys: which files hold which article, so a name is not an identity.

A path, once linked, keeps its article for good (a file that comes back is the same article);
``article_keys`` maps every identity key an article's content ever had to it, so a copy, a
rename or a return under a new name finds the article (bot/identity.py says what a key is).
Triggers (migration 4) write a new seed article's first file and every key its
``articles.identity_key`` takes; the rest is written here. Feed articles have neither.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosqlite

from bot.store.articles import stamp
from bot.store.db import scalar


async def link_file(
    conn: aiosqlite.Connection,
    source: str,
    article_id: int,
    *,
    size: int,
    mtime_ns: int,
    digest: str,
    now: float,
) -> None:
    """Record that ``source`` (present now, with this stamp) holds ``article_id``."""
    await conn.execute(
        "INSERT INTO seed_files (source, article_id, file_size, file_mtime_ns, content_hash, "
        "seen_at) VALUES (:source, :id, :size, :mtime_ns, :hash, :now) ON CONFLICT (source) DO "
        "UPDATE SET article_id = excluded.article_id, file_size = excluded.file_size, "
        "file_mtime_ns = excluded.file_mtime_ns, content_hash = excluded.content_hash, "
        "seen_at = excluded.seen_at, gone_at = NULL",
        {"source": source, "id": article_id, "size": size, "mtime_ns": mtime_ns,
         "hash": digest, "now": now},
    )  # fmt: skip


async def mark_gone(conn: aiosqlite.Connection, source: str, *, now: float) -> int | None:
    """The file is gone for good (longer than SETTLE_SECONDS); returns its article's id."""
    rows = list(
        await conn.execute_fetchall(
            "UPDATE seed_files SET gone_at = :now WHERE source = :source AND gone_at IS NULL "
            "RETURNING article_id",
            {"source": source, "now": now},
        )
    )
    return int(rows[0][0]) if rows else None


async def present_files(conn: aiosqlite.Connection, article_id: int) -> list[str]:
    """The files of this article present at the last scan, by name."""
    rows = await conn.execute_fetchall(
        "SELECT source FROM seed_files WHERE article_id = :id AND gone_at IS NULL ORDER BY source",
        {"id": article_id},
    )
    return [str(r[0]) for r in rows]


async def articles_by_key(conn: aiosqlite.Connection, keys: list[str]) -> dict[str, int]:
    """Identity key → article id for those of ``keys`` the store knows."""
    found: dict[str, int] = {}
    for i in range(0, len(keys), 500):  # well under SQLite's bound-parameter limit
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        rows = await conn.execute_fetchall(
            f"SELECT key, article_id FROM article_keys WHERE key IN ({marks})", chunk
        )
        found.update({str(r[0]): int(r[1]) for r in rows})
    return found


async def set_key(conn: aiosqlite.Connection, article_id: int, key: str) -> None:
    """Store an article's current identity key (the trigger articles_keyed maps it)."""
    await conn.execute(
        "UPDATE articles SET identity_key = :key WHERE id = :id", {"key": key, "id": article_id}
    )


async def count_unkeyed(conn: aiosqlite.Connection) -> int:
    """How many articles still need a key (0 after the first scan on a migrated database)."""
    return await scalar(
        conn, "SELECT count(*) FROM articles WHERE identity_key IS NULL AND origin = 'seed'"
    )


STAMP_QUERY = 500
"""Sources looked up per statement (well under SQLite's bound-parameter limit)."""


async def stamps_of(conn: aiosqlite.Connection, sources: list[str]) -> dict[str, int]:
    """Source -> stamp (``articles.stamp``) of those of ``sources`` present at the last scan.

    A scan asks this per chunk of the folder it walks, so it never holds one entry per known
    file (7.5 MB of strings and ints at 50,000 files).
    """
    stamps: dict[str, int] = {}
    for i in range(0, len(sources), STAMP_QUERY):
        chunk = sources[i : i + STAMP_QUERY]
        rows = await conn.execute_fetchall(
            "SELECT source, file_size, file_mtime_ns FROM seed_files "
            f"WHERE gone_at IS NULL AND source IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for source, size, mtime_ns in rows:
            stamps[source] = stamp(size, mtime_ns)
    return stamps


async def count_present(conn: aiosqlite.Connection) -> int:
    """How many seed files were present at the last scan."""
    return await scalar(conn, "SELECT count(*) FROM seed_files WHERE gone_at IS NULL")


async def present_sources(conn: aiosqlite.Connection) -> AsyncIterator[str]:
    """Every seed file present at the last scan, fetched a few thousand at a time."""
    async with conn.execute("SELECT source FROM seed_files WHERE gone_at IS NULL") as cur:
        cur.row_factory = None  # plain tuples
        while rows := await cur.fetchmany(4096):
            for (source,) in rows:
                yield source
