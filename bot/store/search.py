"""FTS5 queries for search: counts, bm25-ranked pages with a bounded cost, texts for snippets.

Expressions come from bot.query (every term double-quoted); nothing here sees raw user text.
Ranking a match set costs about a microsecond per matching row (bm25 reads each row's positions),
so a set larger than ``cap`` is ranked in two tiers: its ``cap`` newest rows (by id, i.e. the order
articles arrived) by bm25, then the older rest newest first. Counting and walking rows in id order
need no positions and stay cheap at any size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

log = logging.getLogger(__name__)

Weights = tuple[float, float, float]
"""bm25 weights of the title, lead and body columns."""


@dataclass(frozen=True, slots=True)
class TextRow:
    """What a search hit needs from the article: display fields and the text for its snippet."""

    id: int
    title: str
    published_at: datetime
    lead: str
    body: str


async def count(conn: aiosqlite.Connection, expr: str) -> int:
    """How many visible articles match the FTS5 expression."""
    async with conn.execute(
        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH :expr", {"expr": expr}
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _cutoff(conn: aiosqlite.Connection, expr: str, cap: int) -> int:
    """Smallest id among the ``cap`` highest-id matches (the bm25-ranked tier starts there)."""
    async with conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :expr "
        "ORDER BY rowid DESC LIMIT 1 OFFSET :skip",
        {"expr": expr, "skip": cap - 1},
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _by_bm25(
    conn: aiosqlite.Connection, expr: str, cut: int, weights: Weights, offset: int, limit: int
) -> list[tuple[int, float]]:
    # The CTE is used twice, so SQLite materialises it: bm25 runs once per row, and only the rows
    # that can reach this page (score up to the page's last one, ties included) are joined to
    # articles for the recency tie-breaker.
    async with conn.execute(
        "WITH hits AS (SELECT rowid AS id, bm25(articles_fts, :wt, :wl, :wb) AS score "
        "FROM articles_fts WHERE articles_fts MATCH :expr AND rowid >= :cut) "
        "SELECT h.id, h.score FROM hits h JOIN articles a ON a.id = h.id "
        "WHERE h.score <= (SELECT score FROM hits ORDER BY score LIMIT 1 OFFSET :last) "
        "ORDER BY h.score, a.published_at DESC, h.id DESC LIMIT :limit OFFSET :offset",
        {
            "expr": expr, "cut": cut, "wt": weights[0], "wl": weights[1], "wb": weights[2],
            "last": offset + limit - 1, "limit": limit, "offset": offset,
        },
    ) as cur:
        return [(int(r[0]), -float(r[1])) for r in await cur.fetchall()]


async def _by_id(
    conn: aiosqlite.Connection, expr: str, below: int, offset: int, limit: int
) -> list[tuple[int, float]]:
    async with conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :expr AND rowid < :below "
        "ORDER BY rowid DESC LIMIT :limit OFFSET :offset",
        {"expr": expr, "below": below, "limit": limit, "offset": offset},
    ) as cur:
        return [(int(r[0]), 0.0) for r in await cur.fetchall()]


async def ranked(
    conn: aiosqlite.Connection, expr: str, *, total: int, weights: Weights,
    offset: int, limit: int, cap: int,
) -> list[tuple[int, float]]:
    """Ids and scores (higher is better) of matches [offset, offset+limit) in rank order.

    ``total`` is ``count(expr)``; best bm25 first, ties newest (published_at) first.
    """
    if limit <= 0 or offset >= total:
        return []
    cut, ranked_n = 0, total
    if total > cap:
        cut, ranked_n = await _cutoff(conn, expr, cap), cap
    out: list[tuple[int, float]] = []
    if offset < ranked_n:
        n = min(limit, ranked_n - offset)
        out += await _by_bm25(conn, expr, cut, weights, offset, n)
    if offset + limit > ranked_n and cut:
        skip = max(0, offset - ranked_n)
        out += await _by_id(conn, expr, cut, skip, offset + limit - ranked_n - skip)
    return out


async def matches(conn: aiosqlite.Connection, expr: str, article_id: int) -> bool:
    """Does this visible article match the expression (the index holds only visible ones)."""
    async with conn.execute(
        "SELECT 1 FROM articles_fts WHERE articles_fts MATCH :expr AND rowid = :id",
        {"expr": expr, "id": article_id},
    ) as cur:
        return await cur.fetchone() is not None


async def texts(conn: aiosqlite.Connection, ids: list[int]) -> dict[int, TextRow]:
    """Title, date, lead and body of these visible articles, by id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    # "+withdrawn" keeps the planner on the primary key: with a plain "withdrawn = 0" it walks
    # the articles_latest index over every visible article instead (milliseconds at 50k).
    async with conn.execute(
        f"SELECT id, title, published_at, lead, body FROM articles "
        f"WHERE +withdrawn = 0 AND id IN ({marks})",
        ids,
    ) as cur:
        rows = await cur.fetchall()
    return {
        int(r[0]): TextRow(
            int(r[0]), r[1], datetime.fromtimestamp(r[2], UTC), r[3], r[4]
        )
        for r in rows
    }
