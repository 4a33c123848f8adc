"""Feed state (validators, health) and feed item identity (keys → article id) in SQLite.

Writers hold ``db.write_lock(conn)`` (or a transaction); nothing here opens transactions itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store remembers of one feed; times are unix seconds."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    polls: int = 0
    item_count: int = 0
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    failing_since: float | None = None
    failure_noted: bool = False
    articles: int = 0
    """Articles this feed has listed (an article in two feeds counts in both)."""


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """What a feed said about one of its articles when last read."""

    fingerprint: str
    page_retries: int


def _state(row: aiosqlite.Row) -> FeedState:
    return FeedState(
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        polls=row["polls"],
        item_count=row["item_count"],
        last_success_at=row["last_success_at"],
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
        failing_since=row["failing_since"],
        failure_noted=bool(row["failure_noted"]),
        articles=row["articles"],
    )


_SELECT = (
    "SELECT f.*, (SELECT count(*) FROM feed_entries e WHERE e.feed_url = f.url) AS articles "
    "FROM feeds f"
)


async def feed_states(conn: aiosqlite.Connection, urls: list[str]) -> list[FeedState]:
    """The state of each of these feeds, in this order (a feed never read yet: all blank)."""
    rows = await conn.execute_fetchall(_SELECT)
    known = {row["url"]: _state(row) for row in rows}
    return [known.get(url, FeedState(url)) for url in urls]


async def feed_state(conn: aiosqlite.Connection, url: str) -> FeedState:
    """The state of one feed (blank when never read)."""
    rows = await conn.execute_fetchall(_SELECT + " WHERE f.url = :url", {"url": url})
    return next((_state(row) for row in rows), FeedState(url))


async def record_success(
    conn: aiosqlite.Connection,
    url: str,
    *,
    now: float,
    etag: str | None,
    last_modified: str | None,
    item_count: int | None,
) -> None:
    """A poll read the feed (``item_count`` None: 304, nothing new); the failing run ends."""
    await conn.execute(
        "INSERT INTO feeds (url, etag, last_modified, polls, item_count, last_success_at) "
        "VALUES (:url, :etag, :lm, 1, coalesce(:items, 0), :now) ON CONFLICT (url) DO UPDATE SET "
        "etag = coalesce(:etag, etag), last_modified = coalesce(:lm, last_modified), "
        "polls = polls + 1, item_count = coalesce(:items, item_count), "
        "last_success_at = :now, failing_since = NULL",
        {"url": url, "etag": etag, "lm": last_modified, "items": item_count, "now": now},
    )


async def record_failure(conn: aiosqlite.Connection, url: str, error: str, *, now: float) -> None:
    """A poll failed: remember why, and when this run of failures began."""
    await conn.execute(
        "INSERT INTO feeds (url, last_error, last_error_at, failing_since) "
        "VALUES (:url, :error, :now, :now) ON CONFLICT (url) DO UPDATE SET "
        "last_error = :error, last_error_at = :now, "
        "failing_since = coalesce(failing_since, :now)",
        {"url": url, "error": error, "now": now},
    )


async def set_failure_noted(conn: aiosqlite.Connection, url: str, noted: bool) -> None:
    """Remember whether the admins were told about the current failing run."""
    await conn.execute(
        "UPDATE feeds SET failure_noted = :noted WHERE url = :url",
        {"url": url, "noted": int(noted)},
    )


async def article_for_keys(conn: aiosqlite.Connection, keys: list[str]) -> int | None:
    """The article any of these identity keys already belongs to (the first key wins)."""
    if not keys:
        return None
    marks = ",".join("?" * len(keys))
    rows = await conn.execute_fetchall(
        f"SELECT key, article_id FROM feed_keys WHERE key IN ({marks})", keys
    )
    found = {row["key"]: int(row["article_id"]) for row in rows}
    return next((found[k] for k in keys if k in found), None)


async def add_keys(conn: aiosqlite.Connection, article_id: int, keys: list[str]) -> None:
    """Attach identity keys to an article; a key already taken keeps its article."""
    await conn.executemany(
        "INSERT OR IGNORE INTO feed_keys (key, article_id) VALUES (:key, :id)",
        [{"key": k, "id": article_id} for k in keys],
    )


async def seen_entry(
    conn: aiosqlite.Connection, feed_url: str, article_id: int
) -> SeenEntry | None:
    """What this feed said about this article last time, or None if it never listed it."""
    rows = await conn.execute_fetchall(
        "SELECT fingerprint, page_retries FROM feed_entries "
        "WHERE feed_url = :feed AND article_id = :id",
        {"feed": feed_url, "id": article_id},
    )
    return next((SeenEntry(row[0], int(row[1])) for row in rows), None)


async def put_entry(
    conn: aiosqlite.Connection,
    feed_url: str,
    article_id: int,
    *,
    fingerprint: str,
    page_retries: int,
    now: float,
) -> None:
    """Remember what this feed now says about this article."""
    await conn.execute(
        "INSERT INTO feed_entries (feed_url, article_id, fingerprint, page_retries, seen_at) "
        "VALUES (:feed, :id, :fp, :retries, :now) ON CONFLICT (feed_url, article_id) DO UPDATE "
        "SET fingerprint = :fp, page_retries = :retries, seen_at = :now",
        {"feed": feed_url, "id": article_id, "fp": fingerprint, "retries": page_retries,
         "now": now},
    )  # fmt: skip


async def stored_digest(conn: aiosqlite.Connection, article_id: int) -> tuple[str, bool]:
    """An article's content hash and teaser flag (('', False) when there is no such row)."""
    rows = await conn.execute_fetchall(
        "SELECT content_hash, teaser FROM articles WHERE id = :id", {"id": article_id}
    )
    return next(((str(row[0]), bool(row[1])) for row in rows), ("", False))
