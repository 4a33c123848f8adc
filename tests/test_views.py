"""Views: list pages are rendered once per unchanged page, and re-rendered after a change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.store.db import open_db
from bot.telegram.callbacks import KEY_MARK, QueryCache, SearchPage
from bot.telegram.views import Views
from tests.helpers import write_seed

TZ = ZoneInfo("Europe/Moscow")


async def _seven_articles(tmp_path: Path) -> tuple[aiosqlite.Connection, Ingestor, Path]:
    """A database ingested from seven small seed files: (connection, ingestor, seeds folder)."""
    seeds = tmp_path / "seeds"
    for i in range(7):
        write_seed(seeds, f"{i}.txt", f"Учения номер {i}", [f"Прошли учения {i}."])
    conn = await open_db(tmp_path / "v.sqlite3")
    ingestor = Ingestor(conn, seeds, TZ)
    await ingestor.scan()
    return conn, ingestor, seeds


def _pager(view: tuple[str, object]) -> list[str]:
    markup = view[1]
    rows = markup.inline_keyboard if markup is not None else []  # type: ignore[attr-defined]
    return [b.callback_data for row in rows for b in row if b.callback_data.startswith("s:")]


async def test_pages_are_rendered_once_until_the_database_changes(tmp_path: Path) -> None:
    conn, ingestor, seeds = await _seven_articles(tmp_path)
    try:
        views = Views(SearchService(conn), TZ, QueryCache())
        first = await views.latest(1, 5, "ru")
        assert await views.latest(1, 5, "ru") is first
        assert await views.latest(1, 5, "en") is not first  # each language its own rendering
        found = await views.search_page("учения", 1, "ru")
        assert await views.search_page("учения", 1, "ru") is found
        write_seed(seeds, "new.txt", "Свежие учения", ["Снова учения."])
        await ingestor.scan()
        fresh = await views.latest(1, 5, "ru")
        assert fresh is not first and "Свежие учения" in fresh[0]
        again = await views.search_page("учения", 1, "ru")
        assert again is not found and "8" in again[0]  # the new count is in the header
    finally:
        await conn.close()


async def test_a_reused_page_keeps_its_long_query_resolvable(tmp_path: Path) -> None:
    """A query too long for callback_data rides as a QueryCache key; reusing the rendering must
    refresh that key, or ▶ would answer "search expired" once other queries evicted it."""
    conn, _, _ = await _seven_articles(tmp_path)
    try:
        queries = QueryCache(maxsize=2)
        views = Views(SearchService(conn), TZ, queries)
        query = "учения -" + "несуществующееслово" * 4
        view = await views.search_page(query, 1, "ru")
        (data,) = _pager(view)
        key = SearchPage.unpack(data).q
        assert key.startswith(KEY_MARK) and queries.get(key) == query
        queries.put("другой запрос")
        queries.put("третий запрос")
        assert queries.get(key) is None  # evicted
        assert await views.search_page(query, 1, "ru") is view  # reused…
        assert queries.get(key) == query  # …and its key is back
    finally:
        await conn.close()


async def test_readers_asking_at_once_share_one_build(tmp_path: Path) -> None:
    """A burst (a channel post's button) asks for the same pages before any is cached: one
    search and one rendering serve them all, and one reader's cancelled handler stops no other."""
    conn, _, _ = await _seven_articles(tmp_path)
    try:
        views = Views(SearchService(conn), TZ, QueryCache())
        statements: list[str] = []
        await conn.set_trace_callback(statements.append)
        calls = [views.latest(1, 5, "ru") for _ in range(30)]
        calls += [views.search_page("учения", 1, "ru") for _ in range(30)]
        results = await asyncio.gather(*calls)
        await conn.set_trace_callback(None)
        latest, found = results[0], results[30]
        assert all(r is latest for r in results[:30]) and "Учения номер 6" in latest[0]
        assert all(r is found for r in results[30:]) and "7" in found[0]
        own = [s for s in statements if not s.startswith("--")]  # FTS5's inner reads
        assert 0 < len(own) <= 12, own  # one reader's worth of SQL, not thirty
        first = asyncio.ensure_future(views.latest(2, 3, "ru"))
        second = asyncio.ensure_future(views.latest(2, 3, "ru"))
        await asyncio.sleep(0)
        first.cancel()
        page_two = await second
        assert "Учения номер 2" in page_two[0] and first.cancelled()
    finally:
        await conn.close()
