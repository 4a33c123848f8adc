"""Inline search reads its result cards in one query and keeps the search's ranking order."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.config import Settings
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.store import articles
from tests.fake_telegram import FakeTelegram
from tests.helpers import MSK, start_bot, write_seed


def add_articles(seeds: Path, n: int) -> None:
    """Articles whose titles match «партнёр» more or less closely, so ranking orders them."""
    for i in range(1, n + 1):
        title = f"Новость {i} про партнёров" if i % 3 else f"Партнёры и партнёрство {i}"
        write_seed(seeds, f"p{i:02}.txt", title, [f"Текст {i}."], date=f"{i} апреля 2025 г.")


async def test_summaries_keep_the_order_asked_and_skip_what_is_gone(
    conn: aiosqlite.Connection, seeds_dir: Path
) -> None:
    add_articles(seeds_dir, 4)
    await Ingestor(conn, seeds_dir, MSK).scan()
    cards = await articles.summaries(conn, [3, 999, 1, 2])
    assert [c.id for c in cards] == [3, 1, 2]
    assert await articles.summaries(conn, []) == []
    assert cards[0].lead and cards[0].title


async def test_inline_results_follow_the_search_ranking(
    settings: Settings, fake_tg: FakeTelegram, seeds_dir: Path
) -> None:
    add_articles(seeds_dir, 12)
    app = await start_bot(settings, fake_tg)
    try:
        ranked = await SearchService(app.conn).search("партнёр", per_page=20)
        assert ranked is not None and len(ranked.items) >= 12
        answer = await fake_tg.wait_for_inline_answer(fake_tg.push_inline_query(42, "партнёр"))
        assert [r["id"] for r in answer["results"]] == [f"a{h.id}" for h in ranked.items]
        assert [r["title"] for r in answer["results"]] == [h.title for h in ranked.items]
    finally:
        await app.stop()
    fake_tg.assert_clean()
