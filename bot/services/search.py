"""Search use cases for every front end: latest, ranked search pages with snippets, keyword match."""

from __future__ import annotations

import logging
import sqlite3

import aiosqlite

from bot.models import Article, ArticleSummary, Page, SearchHit
from bot.query import Query, parse
from bot.snippets import snippet
from bot.store import articles
from bot.store import search as store

log = logging.getLogger(__name__)

WEIGHTS: store.Weights = (10.0, 3.0, 1.0)
"""bm25 weights of title, lead and body (tuned with bench/search_quality.py)."""
RANK_CAP = 2000
"""Match sets larger than this rank only their newest RANK_CAP rows by bm25 (bounds latency)."""
MAX_PER_PAGE = 50
MAX_ID = 2**63 - 1


def _page_bounds(page: int, per_page: int, total: int) -> tuple[int, int]:
    """Clamp a requested page (1-based) and page size to what exists."""
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    pages = max(1, -(-total // per_page))
    return max(1, min(int(page), pages)), per_page


class SearchService:
    """Read side of the archive: what /latest, /search, /article, inline mode and alerts use."""

    def __init__(
        self, conn: aiosqlite.Connection, *, weights: store.Weights = WEIGHTS,
        rank_cap: int = RANK_CAP,
    ) -> None:
        self.conn = conn
        self.weights = weights
        self.rank_cap = rank_cap

    async def latest(self, page: int = 1, per_page: int = 5) -> Page[ArticleSummary]:
        """Newest articles first, a page at a time."""
        total = await articles.count_visible(self.conn)
        page, per_page = _page_bounds(page, per_page, total)
        items = await articles.latest(self.conn, offset=(page - 1) * per_page, limit=per_page)
        return Page(tuple(items), total, page, per_page)

    async def article(self, article_id: int) -> Article | None:
        """One visible article, or None (missing, withdrawn, or an id no article can have)."""
        if not isinstance(article_id, int) or not 0 < article_id <= MAX_ID:
            return None
        return await articles.get_article(self.conn, article_id)

    async def search(self, query: str, page: int = 1, per_page: int = 5) -> Page[SearchHit] | None:
        """Ranked matches for reader text; None when it holds nothing to search for."""
        parsed = parse(query)
        if parsed is None:
            return None
        try:
            return await self._search(parsed, page, per_page)
        except sqlite3.OperationalError as exc:  # aiosqlite re-raises sqlite3's errors
            if "fts5" not in str(exc).lower():
                raise
            log.warning("search expression rejected (%s) for %r", exc, parsed.match_all())
            return None

    async def _search(self, q: Query, page: int, per_page: int) -> Page[SearchHit]:
        tiers = q.tiers()
        counts = [await store.count(self.conn, expr) for expr in tiers]
        total = sum(counts)
        page, per_page = _page_bounds(page, per_page, total)
        offset, found = (page - 1) * per_page, []
        for expr, n in zip(tiers, counts, strict=True):
            if len(found) < per_page and offset < n:
                found += await self._ranked(expr, n, offset, per_page - len(found))
            offset = max(0, offset - n)
        rows = await store.texts(self.conn, [i for i, _ in found])
        exact, prefixes = q.marks()
        hits = []
        for article_id, score in found:
            row = rows.get(article_id)
            if row is None:  # withdrawn between the two queries
                continue
            text = f"{row.lead}\n{row.body}" if row.body else row.lead
            hits.append(
                SearchHit(row.id, row.title, row.published_at, snippet(text, exact, prefixes), score)
            )
        return Page(tuple(hits), total, page, per_page)

    async def _ranked(
        self, expr: str, total: int, offset: int, limit: int
    ) -> list[tuple[int, float]]:
        return await store.ranked(
            self.conn, expr, total=total, weights=self.weights, offset=offset, limit=limit,
            cap=self.rank_cap,
        )

    async def matches(self, article_id: int, query: str) -> bool:
        """Does this article have every word of the query (same morphology rules as search)?"""
        parsed = parse(query)
        if parsed is None or not isinstance(article_id, int) or not 0 < article_id <= MAX_ID:
            return False
        try:
            return await store.matches(self.conn, parsed.match_all(), article_id)
        except sqlite3.OperationalError as exc:
            if "fts5" not in str(exc).lower():
                raise
            log.warning("match expression rejected (%s) for %r", exc, parsed.match_all())
            return False
