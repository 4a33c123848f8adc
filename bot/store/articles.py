"""Articles and their FTS rows: reads for the services, upserts for ingest (FTS kept in sync)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from bot.models import Article, ArticleSummary, ParsedArticle
from bot.store.db import content_changed, scalar
from bot.text import index_text


@dataclass(frozen=True, slots=True)
class FileState:
    """What the store remembers of a seed file, to skip unchanged files without reading them."""

    source: str
    size: int
    mtime_ns: int
    content_hash: str
    article_id: int | None = None
    withdrawn: bool = False
    failure: str | None = None
    gone: bool = False
    """The file was gone for longer than SETTLE_SECONDS (its row kept: the path keeps its
    article if it comes back)."""


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _article(row: aiosqlite.Row) -> Article:
    return Article(
        id=row["id"],
        source=row["source"],
        title=row["title"],
        published_at=datetime.fromtimestamp(row["published_at"], UTC),
        lead=row["lead"],
        body=tuple(p for p in row["body"].split("\n") if p),
        credit=row["credit"],
        promo=tuple(p for p in row["promo"].split("\n") if p),
        date_from_mtime=bool(row["date_from_mtime"]),
        added_at=_ts(row["added_at"]),
        updated_at=_ts(row["updated_at"]),
        withdrawn=bool(row["withdrawn"]),
        url=row["url"],
        image_url=row["image_url"],
        teaser=bool(row["teaser"]),
        revision=row["revision"],
    )


def _summary(row: aiosqlite.Row) -> ArticleSummary:
    return ArticleSummary(
        id=row["id"],
        title=row["title"],
        published_at=datetime.fromtimestamp(row["published_at"], UTC),
        lead=row["lead"],
        credit=row["credit"],
        url=row["url"],
    )


async def get_article(conn: aiosqlite.Connection, article_id: int) -> Article | None:
    """The visible article with this id, or None when it does not exist or was withdrawn."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM articles WHERE id = :id AND withdrawn = 0", {"id": article_id}
    )
    return next((_article(row) for row in rows), None)


async def get_article_any(conn: aiosqlite.Connection, article_id: int) -> Article | None:
    """The article with this id, withdrawn or not (``Article.withdrawn`` says which)."""
    rows = await conn.execute_fetchall("SELECT * FROM articles WHERE id = :id", {"id": article_id})
    return next((_article(row) for row in rows), None)


async def revisions(conn: aiosqlite.Connection, ids: list[int]) -> dict[int, tuple[int, bool]]:
    """id → (revision, withdrawn) for these articles, in one query."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await conn.execute_fetchall(
        f"SELECT id, revision, withdrawn FROM articles WHERE id IN ({marks})", ids
    )
    return {int(r[0]): (int(r[1]), bool(r[2])) for r in rows}


async def latest(conn: aiosqlite.Connection, *, offset: int, limit: int) -> list[ArticleSummary]:
    """Newest visible articles first (published_at, then id as the tie-breaker)."""
    rows = await conn.execute_fetchall(
        "SELECT id, title, published_at, lead, credit, url FROM articles WHERE withdrawn = 0 "
        "ORDER BY published_at DESC, id DESC LIMIT :limit OFFSET :offset",
        {"limit": limit, "offset": offset},
    )
    return [_summary(row) for row in rows]


async def summaries(conn: aiosqlite.Connection, ids: list[int]) -> list[ArticleSummary]:
    """Summaries for these visible ids, in the order given: inline mode's cards in one query."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await conn.execute_fetchall(
        f"SELECT id, title, published_at, lead, credit, url FROM articles "
        f"WHERE +withdrawn = 0 AND id IN ({marks})",
        ids,
    )
    by_id = {row["id"]: _summary(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def count_visible(conn: aiosqlite.Connection) -> int:
    """How many articles readers can see (not withdrawn)."""
    return await scalar(conn, "SELECT count(*) FROM articles WHERE withdrawn = 0")


async def newest_ids(conn: aiosqlite.Connection, n: int) -> list[int]:
    """Ids of the ``n`` newest visible articles, oldest of them first (posting order)."""
    rows = await conn.execute_fetchall(
        "SELECT id FROM (SELECT id, published_at FROM articles WHERE withdrawn = 0 "
        "ORDER BY published_at DESC, id DESC LIMIT :n) ORDER BY published_at, id",
        {"n": n},
    )
    return [int(row[0]) for row in rows]


def stamp(size: int, mtime_ns: int) -> int:
    """A file's size and mtime as one int: the quick "unchanged?" check of a scan.

    One int per file instead of a record keeps a scan of 50k files to a few MB.
    """
    return size << 64 | mtime_ns


async def failure_states(conn: aiosqlite.Connection) -> dict[str, FileState]:
    """Every seed file with a recorded failure, with the article it had (if any)."""
    return await _states(conn, "SELECT source FROM seed_failures", [])


async def file_states(conn: aiosqlite.Connection, sources: list[str]) -> dict[str, FileState]:
    """What the store knows of these seed files (articles and failures), by source."""
    states: dict[str, FileState] = {}
    for i in range(0, len(sources), 500):  # well under SQLite's bound-parameter limit
        chunk = sources[i : i + 500]
        states.update(await _states(conn, "VALUES " + ",".join(["(?)"] * len(chunk)), chunk))
    return states


async def _states(
    conn: aiosqlite.Connection, wanted: str, params: list[str]
) -> dict[str, FileState]:
    """FileState of each source ``wanted`` lists: its file row (and article) merged with any
    failure."""
    rows = await conn.execute_fetchall(
        f"WITH wanted(source) AS ({wanted}) "
        "SELECT w.source, s.article_id, s.file_size, s.file_mtime_ns, s.content_hash, "
        "a.withdrawn, f.reason, f.file_size, f.file_mtime_ns, s.gone_at FROM wanted w "
        "LEFT JOIN seed_files s ON s.source = w.source "
        "LEFT JOIN articles a ON a.id = s.article_id "
        "LEFT JOIN seed_failures f ON f.source = w.source "
        "WHERE s.source IS NOT NULL OR f.source IS NOT NULL",
        params,
    )
    states: dict[str, FileState] = {}
    for source, aid, size, mtime, digest, withdrawn, reason, f_size, f_mtime, gone in rows:
        if reason is not None:  # a failure is newer than the file's row
            size, mtime = f_size, f_mtime
        states[source] = FileState(
            source, size, mtime, digest or "", article_id=aid, withdrawn=bool(withdrawn),
            failure=reason, gone=gone is not None,
        )  # fmt: skip
    return states


def fts_values(parsed: ParsedArticle) -> dict[str, str]:
    """The stemmed FTS columns of an article (pure; ingest computes them off the event loop)."""
    return {
        "t": index_text(parsed.title),
        "l": index_text(parsed.lead),
        "b": index_text("\n".join(parsed.body)),
    }


def _row_values(parsed: ParsedArticle, size: int, mtime_ns: int, digest: str) -> dict[str, object]:
    return {
        "title": parsed.title,
        "published_at": parsed.published_at.timestamp(),
        "date_from_mtime": int(parsed.date_from_mtime),
        "credit": parsed.credit,
        "lead": parsed.lead,
        "body": "\n".join(parsed.body),
        "promo": "\n".join(parsed.promo),
        "size": size,
        "mtime_ns": mtime_ns,
        "hash": digest,
        "url": parsed.url,
        "image_url": parsed.image_url,
        "teaser": int(parsed.teaser),
    }


async def save_article(
    conn: aiosqlite.Connection,
    source: str,
    parsed: ParsedArticle,
    *,
    article_id: int | None = None,
    size: int,
    mtime_ns: int,
    digest: str,
    now: float,
    fts: dict[str, str] | None = None,
    origin: str = "seed",
    announced: bool = False,
    key: str | None = None,
    bump: bool = False,
) -> int:
    """Add a new article (no ``article_id``) or replace an edited one's content in place (same
    id, un-withdrawn; ``bump`` raises its revision: a visible change or a return), and index
    it; returns its id. ``key`` is a seed article's identity key. Caller holds the transaction.

    A new article from ``origin`` 'feed' is a feed's; ``announced`` stores it as already handled:
    searchable, never posted (the backlog of a feed's first read).
    """
    values = _row_values(parsed, size, mtime_ns, digest) | {"now": now, "key": key}
    if article_id is None:
        cur = await conn.execute(
            "INSERT INTO articles (source, title, published_at, date_from_mtime, credit, lead, "
            "body, promo, file_size, file_mtime_ns, content_hash, added_at, origin, url, "
            "image_url, teaser, announced, identity_key) VALUES (:source, :title, "
            ":published_at, :date_from_mtime, :credit, :lead, :body, :promo, :size, :mtime_ns, "
            ":hash, :now, :origin, :url, :image_url, :teaser, :announced, :key)",
            values | {"source": source, "origin": origin, "announced": int(announced)},
        )
        article_id = int(cur.lastrowid or 0)
    else:
        await conn.execute(
            "UPDATE articles SET title = :title, published_at = :published_at, "
            "date_from_mtime = :date_from_mtime, credit = :credit, lead = :lead, body = :body, "
            "promo = :promo, file_size = :size, file_mtime_ns = :mtime_ns, "
            "content_hash = :hash, url = :url, image_url = :image_url, teaser = :teaser, "
            "updated_at = :now, withdrawn = 0, revision = revision + :bump, "
            "identity_key = coalesce(:key, identity_key) WHERE id = :id",
            values | {"id": article_id, "bump": int(bump)},
        )
        await conn.execute("DELETE FROM articles_fts WHERE rowid = :id", {"id": article_id})
    await conn.execute(
        "INSERT INTO articles_fts (rowid, title, lead, body) VALUES (:id, :t, :l, :b)",
        (fts or fts_values(parsed)) | {"id": article_id},
    )
    content_changed(conn)
    return article_id


async def unkeyed(conn: aiosqlite.Connection, limit: int = 500) -> list[Article]:
    """Seed articles stored before identity keys existed (migration 4), to key them once (feed
    articles have their own identity: store/feeds.py)."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM articles WHERE identity_key IS NULL AND origin = 'seed' LIMIT :n",
        {"n": limit},
    )
    return [_article(row) for row in rows]


async def withdraw(conn: aiosqlite.Connection, article_id: int, *, now: float) -> bool:
    """Hide an article whose last file disappeared: kept in the table (its revision bumped),
    removed from the index. False when it was withdrawn already."""
    cur = await conn.execute(
        "UPDATE articles SET withdrawn = 1, updated_at = :now, revision = revision + 1 "
        "WHERE id = :id AND withdrawn = 0",
        {"id": article_id, "now": now},
    )
    if cur.rowcount == 0:
        return False
    await conn.execute("DELETE FROM articles_fts WHERE rowid = :id", {"id": article_id})
    content_changed(conn)
    return True


async def record_failure(
    conn: aiosqlite.Connection, source: str, reason: str, *, size: int, mtime_ns: int, now: float
) -> None:
    """Remember that a file failed to parse, so warm scans skip it and /reload still names it."""
    await conn.execute(
        "INSERT INTO seed_failures (source, reason, file_size, file_mtime_ns, failed_at) "
        "VALUES (:source, :reason, :size, :mtime_ns, :now) ON CONFLICT (source) DO UPDATE SET "
        "reason = excluded.reason, file_size = excluded.file_size, "
        "file_mtime_ns = excluded.file_mtime_ns, failed_at = excluded.failed_at",
        {"source": source, "reason": reason, "size": size, "mtime_ns": mtime_ns, "now": now},
    )


async def clear_failure(conn: aiosqlite.Connection, source: str) -> None:
    """Forget a failure once the file parses again or is gone."""
    await conn.execute("DELETE FROM seed_failures WHERE source = :source", {"source": source})
