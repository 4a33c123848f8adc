"""FTS5 queries for search: counts, bm25-ranked pages with a bounded cost, texts for snippets.

Expressions come from bot.query (every term double-quoted); nothing here sees raw user text, and
an expression FTS5 still refuses raises ``QueryRejected``.
Ranking a match set costs about a microsecond per matching row (bm25 reads each row's positions),
so a set larger than ``cap`` is ranked in two tiers: its ``cap`` newest rows (by id, i.e. the order
articles arrived) by bm25, then the older rest newest first. Counting and walking rows in id order
need no positions and stay cheap at any size.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import aiosqlite

from bot.store import state
from bot.store.db import scalar

log = logging.getLogger(__name__)

Weights = tuple[float, float, float]
"""bm25 weights of the title, lead and body columns."""


class QueryRejected(Exception):
    """FTS5 refused a MATCH expression (its syntax, or a query too complex to run)."""


@contextmanager
def _rejected() -> Iterator[None]:
    """Turn FTS5's refusal of an expression into QueryRejected; other errors pass through."""
    try:
        yield
    except sqlite3.OperationalError as exc:  # aiosqlite re-raises sqlite3's errors
        if "fts5" not in str(exc).lower():
            raise
        raise QueryRejected(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class TextRow:
    """What a search hit needs from the article: display fields and the text for its snippet."""

    id: int
    title: str
    published_at: datetime
    lead: str
    body: str


async def count(conn: aiosqlite.Connection, expr: str, upto: int | None = None) -> int:
    """How many visible articles match the FTS5 expression (at most ``upto``, if given: the
    scan stops there)."""
    with _rejected():
        if upto is None:
            sql = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH :expr"
            return await scalar(conn, sql, {"expr": expr})
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH :expr "
            "LIMIT :n)"
        )
        return await scalar(conn, sql, {"expr": expr, "n": upto})


_CUTOFF = (
    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :expr "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
)


async def count_and_cutoff(
    conn: aiosqlite.Connection, expr: str, upto: int, cap: int
) -> tuple[int, int]:
    """``count(expr, upto)`` and ``_cutoff(expr, cap)`` (``upto`` > ``cap``) from one scan,
    newest first: ranking these matches later needs no scan of its own to find where to start."""
    with _rejected():
        rows = list(
            await conn.execute_fetchall(
                "WITH m AS (SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH :expr "
                "ORDER BY rowid DESC LIMIT :n) SELECT count(*), "
                "coalesce((SELECT id FROM m ORDER BY id DESC LIMIT 1 OFFSET :skip), 0) FROM m",
                {"expr": expr, "n": upto, "skip": cap - 1},
            )
        )
    return int(rows[0][0]), int(rows[0][1])


async def _cutoff(conn: aiosqlite.Connection, expr: str, cap: int) -> int:
    """Smallest id among the ``cap`` highest-id matches (the bm25-ranked tier starts there)."""
    return await scalar(conn, _CUTOFF, {"expr": expr, "skip": cap - 1})


async def _by_bm25(
    conn: aiosqlite.Connection,
    expr: str,
    title: str | None,
    cut: int | None,
    weights: Weights,
    offset: int,
    limit: int,
    cap: int = 0,
) -> list[tuple[int, float]]:
    # Ranked: the matches from id ``cut`` on (None: from ``_cutoff(cap)``, found in this same
    # statement, one trip to aiosqlite's thread fewer). Order: articles whose title matches
    # ``title`` first (if given), then bm25, then newest. The scan stays in ascending id order:
    # FTS5's bm25 of a phrase inside OR/NOT can differ in a descending one. The CTEs are used
    # twice, so SQLite materialises them (bm25 runs once per row); only rows that can reach
    # this page (up to the page's last key, ties included) are joined to articles.
    since = ":cut" if cut is not None else "(SELECT cut FROM c)"
    titled = (
        "rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :title "
        f"AND rowid >= {since})"
        if title
        else "0"
    )
    found = "" if cut is not None else f"c AS (SELECT coalesce(({_CUTOFF}), 0) AS cut), "
    rows = list(
        await conn.execute_fetchall(
            f"WITH {found}hits AS (SELECT rowid AS id, bm25(articles_fts, :wt, :wl, :wb) AS "
            f"score, {titled} AS t FROM articles_fts WHERE articles_fts MATCH :expr AND "
            f"rowid >= {since}) "
            "SELECT h.id, h.score FROM hits h JOIN articles a ON a.id = h.id "
            "WHERE (-h.t, h.score) <= "
            "(SELECT -t, score FROM hits ORDER BY t DESC, score LIMIT 1 OFFSET :last) "
            "ORDER BY h.t DESC, h.score, a.published_at DESC, h.id DESC "
            "LIMIT :limit OFFSET :offset",
            {
                "expr": expr,
                "title": title,
                "cut": cut,
                "skip": cap - 1,
                "wt": weights[0],
                "wl": weights[1],
                "wb": weights[2],
                "last": offset + limit - 1,
                "limit": limit,
                "offset": offset,
            },
        )
    )
    return [(int(r[0]), -float(r[1])) for r in rows]


async def _by_id(
    conn: aiosqlite.Connection, expr: str, below: int, offset: int, limit: int
) -> list[tuple[int, float]]:
    rows = list(
        await conn.execute_fetchall(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :expr AND rowid < :below "
            "ORDER BY rowid DESC LIMIT :limit OFFSET :offset",
            {"expr": expr, "below": below, "limit": limit, "offset": offset},
        )
    )
    return [(int(r[0]), 0.0) for r in rows]


@dataclass(frozen=True, slots=True)
class Titled:
    """A match whose title matched too: what the service needs to re-rank such a small group."""

    id: int
    title: str
    published_at: float


async def title_group(conn: aiosqlite.Connection, expr: str, *, limit: int) -> list[Titled]:
    """Up to ``limit`` matches of ``expr`` (a title-restricted expression), unordered.

    No bm25 here: its statistics cost a pass over every term's postings.
    """
    with _rejected():
        rows = await conn.execute_fetchall(
            "SELECT f.rowid, a.title, a.published_at "
            "FROM articles_fts f JOIN articles a ON a.id = f.rowid "
            "WHERE articles_fts MATCH :expr LIMIT :limit",
            {"expr": expr, "limit": limit},
        )
    return [Titled(int(r[0]), r[1], float(r[2])) for r in rows]


async def ranked(
    conn: aiosqlite.Connection,
    expr: str,
    *,
    total: int,
    weights: Weights | None,
    offset: int,
    limit: int,
    cap: int,
    title: str | None = None,
    cut: int | None = None,
) -> list[tuple[int, float]]:
    """Ids and scores (higher is better) of matches [offset, offset+limit) in rank order.

    ``total`` is ``count(expr)``. Title matches (``title``: the same terms restricted to the
    title column) first, then best bm25, ties newest (published_at) first; past ``cap`` rows
    only the newest ``cap`` are ranked that way, the rest follow newest id first. Without
    ``weights`` (prefix queries, whose bm25 statistics cost a merge of every word with the
    prefix) the whole set is ordered newest id first.
    """
    if limit <= 0 or offset >= total:
        return []
    limit = min(limit, total - offset)
    with _rejected():
        if weights is None:
            return await _by_id(conn, expr, 2**63 - 1, offset, limit)
        if offset + limit <= min(total, cap):  # within the ranked rows: one statement
            cut = cut if total > cap else 0
            return await _by_bm25(conn, expr, title, cut, weights, offset, limit, cap)
        known, cut, ranked_n = cut, 0, total
        if total > cap:
            cut = known if known is not None else await _cutoff(conn, expr, cap)
            ranked_n = cap
        out: list[tuple[int, float]] = []
        if offset < ranked_n:
            n = min(limit, ranked_n - offset)
            out += await _by_bm25(conn, expr, title, cut, weights, offset, n)
        if offset + limit > ranked_n and cut:
            skip = max(0, offset - ranked_n)
            out += await _by_id(conn, expr, cut, skip, offset + limit - ranked_n - skip)
        return out


_VOCAB = "temp.articles_fts_vocab"


async def doc_freqs(conn: aiosqlite.Connection, stems: list[str]) -> dict[str, int]:
    """How many articles hold each of these stems (absent stems are left out)."""
    if not stems:
        return {}
    marks = ",".join("?" * len(stems))
    sql = f"SELECT term, doc FROM {_VOCAB} WHERE term IN ({marks})"
    for attempt in (1, 2):
        try:
            rows = await conn.execute_fetchall(sql, stems)
            return {str(r[0]): int(r[1]) for r in rows}
        except sqlite3.OperationalError as exc:
            if attempt == 2 or "no such table" not in str(exc):
                raise
            # A per-connection TEMP view of the index's vocabulary: no change to the schema.
            await conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VOCAB} "
                "USING fts5vocab(main, articles_fts, 'row')"
            )
    return {}


async def optimize(conn: aiosqlite.Connection) -> None:
    """Merge the full-text index into one segment (caller holds a transaction): a phrase is
    looked up once per segment, and a bulk load or months of single articles leave dozens
    (forgiving search's p95 at 50,000 articles: 11 → 7 ms; 2 s of work at that size)."""
    await conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")


async def merge_after(conn: aiosqlite.Connection, written: int, every: int) -> bool:
    """Count ``written`` articles towards the next ``optimize``, and run it once ``every``
    have been written since the last one (caller holds a transaction). True if it ran."""
    total = int(await state.get(conn, state.INDEX_WRITES) or 0) + written
    if total >= every:
        await optimize(conn)
    await state.put(conn, state.INDEX_WRITES, str(0 if total >= every else total))
    return total >= every


async def db_file(conn: aiosqlite.Connection) -> str:
    """The main database's file ('' for an in-memory database)."""
    rows = await conn.execute_fetchall("PRAGMA database_list")
    return next((str(r[2] or "") for r in rows if r[1] == "main"), "")


def read_vocabulary(path: str) -> Iterator[tuple[str, int]]:
    """Every indexed term with its article count, in term order, read on a private read-only
    connection: the long read (~0.5 s at 50k articles) holds up no query on the shared one."""
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA cache_size = 64")  # one pass over the index: the OS caches it
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, articles_fts, 'row')")
        for term, docs in conn.execute("SELECT term, doc FROM temp.vocab"):
            yield str(term), int(docs)
    finally:
        conn.close()


async def vocabulary_rows(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
    """The same on the shared connection (for an in-memory database, which has no file)."""
    await doc_freqs(conn, ["x"])  # creates the TEMP vocabulary table if needed
    rows = await conn.execute_fetchall(f"SELECT term, doc FROM {_VOCAB}")
    return [(str(r[0]), int(r[1])) for r in rows]


async def matches(conn: aiosqlite.Connection, expr: str, article_id: int) -> bool:
    """Does this visible article match the expression (the index holds only visible ones)."""
    with _rejected():
        rows = await conn.execute_fetchall(
            "SELECT 1 FROM articles_fts WHERE articles_fts MATCH :expr AND rowid = :id",
            {"expr": expr, "id": article_id},
        )
    return bool(list(rows))


async def texts(conn: aiosqlite.Connection, ids: list[int]) -> dict[int, TextRow]:
    """Title, date, lead and body of these visible articles, by id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    # "+withdrawn" keeps the planner on the primary key: with a plain "withdrawn = 0" it walks
    # the articles_latest index over every visible article instead (milliseconds at 50k).
    rows = list(
        await conn.execute_fetchall(
            f"SELECT id, title, published_at, lead, body FROM articles "
            f"WHERE +withdrawn = 0 AND id IN ({marks})",
            ids,
        )
    )
    return {
        int(r[0]): TextRow(int(r[0]), r[1], datetime.fromtimestamp(r[2], UTC), r[3], r[4])
        for r in rows
    }
