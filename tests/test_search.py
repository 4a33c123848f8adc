"""SearchService on temp SQLite files filled through the real ingest pipeline."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.models import MARK_END, MARK_START, Page, SearchHit
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.store import articles, fts, state
from bot.store.db import open_db, transaction
from tests.helpers import HOSTILE, write_seed

TZ = ZoneInfo("Europe/Moscow")

ARTICLES = {
    "partner.txt": (
        "В России назвали Беларусь стратегическим партнером",
        [
            "Федеральная служба назвала Беларусь стратегическим партнером страны в сфере "
            "военно-технического сотрудничества.",
            "Ранее Москва и Минск скорректировали параметры учения «Запад-2025».",
        ],
        "21 мая 2025 г. 10:37",
    ),
    "drills.txt": (
        "Учения «Запад-2025» пройдут в сентябре",
        [
            "Совместные учения Белоруссии и России начнутся осенью.",
            "На учениях отработают оборону союзного государства. AT&T <script> не при чём.",
        ],
        "20 мая 2025 г. 09:00",
    ),
    "baltic.txt": (
        "Партнёры на Балтике",
        [
            "Стратегическое значение региона растёт: партнёры по альянсу усиливают группировку.",
            "Военные учения на Балтике проходят ежегодно.",
        ],
        "19 мая 2025 г. 12:00",
    ),
}
OIL = [f"oil{i:02d}.txt" for i in range(12)]


def _write_all(folder: Path) -> None:
    for name, (title, paragraphs, date) in ARTICLES.items():
        write_seed(folder, name, title, paragraphs, date=date)
    for i, name in enumerate(OIL):
        write_seed(
            folder,
            name,
            f"Сводка рынка номер {i}",
            [f"Цены на нефть изменились в день {i}.", "Аналитики ждут новостей."],
            date=f"{i + 1} марта 2025 г. 10:00",
        )


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[aiosqlite.Connection, Ingestor, Path]]:
    folder = tmp_path / "seeds"
    _write_all(folder)
    conn = await open_db(tmp_path / "db.sqlite3")
    ingestor = Ingestor(conn, folder, TZ)
    report = await ingestor.scan()
    assert report.added == len(ARTICLES) + len(OIL) and not report.failed
    try:
        yield conn, ingestor, folder
    finally:
        await conn.close()


@pytest.fixture
def svc(env: tuple[aiosqlite.Connection, Ingestor, Path]) -> SearchService:
    return SearchService(env[0])


async def _titles(svc: SearchService, query: str, per_page: int = 20) -> list[str]:
    page = await svc.search(query, per_page=per_page)
    assert page is not None
    return [h.title for h in page.items]


async def _id_of(svc: SearchService, title: str) -> int:
    page = await svc.search(title, per_page=1)
    assert page is not None and page.items and page.items[0].title == title
    return page.items[0].id


PARTNER, DRILLS, BALTIC = (ARTICLES[n][0] for n in ("partner.txt", "drills.txt", "baltic.txt"))


async def test_other_forms_yo_and_case_find_the_article(svc: SearchService) -> None:
    for query in ("партнёр", "ПАРТНЕР", "партнёрами", "Партнером"):
        assert set(await _titles(svc, query)) == {PARTNER, BALTIC}
    assert await _titles(svc, "партнёр") == await _titles(svc, "партнер")
    assert DRILLS in await _titles(svc, "учениях")
    assert DRILLS in await _titles(svc, "учения")


async def test_title_matches_rank_first(svc: SearchService) -> None:
    assert (await _titles(svc, "учения"))[0] == DRILLS
    assert (await _titles(svc, "стратегическим партнёром"))[0] == PARTNER


async def test_all_terms_before_some_and_total_counts_both(svc: SearchService) -> None:
    page = await svc.search("учения нефть", per_page=20)
    assert page is not None
    assert page.total == 3 + len(OIL)  # no article has both: every one has one of them
    page = await svc.search("учения Балтика", per_page=20)
    assert page is not None
    assert page.items[0].title == BALTIC and page.total == 3


async def test_phrase_needs_the_words_together(svc: SearchService) -> None:
    assert await _titles(svc, '"стратегическим партнером"') == [PARTNER]
    assert BALTIC in await _titles(svc, "стратегический партнёр")


async def test_exclusion_and_prefix(svc: SearchService) -> None:
    assert DRILLS not in await _titles(svc, "учения -запад")
    assert set(await _titles(svc, "учения -запад")) == {BALTIC}
    assert set(await _titles(svc, "партн*")) == {PARTNER, BALTIC}
    assert set(await _titles(svc, "партнеро*")) == {PARTNER, BALTIC}


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_get_a_normal_answer(svc: SearchService, query: str) -> None:
    page = await svc.search(query)
    assert page is None or isinstance(page, Page)
    assert isinstance(await svc.matches(1, query), bool)


async def test_nothing_to_search_for_is_none_and_no_match_is_an_empty_page(
    svc: SearchService,
) -> None:
    assert await svc.search("") is None
    assert await svc.search("-учения") is None
    page = await svc.search("абракадабра")
    assert page is not None and page.items == () and page.total == 0 and page.pages == 1


async def test_pages_cover_every_match_once(svc: SearchService) -> None:
    seen: list[int] = []
    for number in (1, 2, 3):
        page = await svc.search("нефть", page=number, per_page=5)
        assert page is not None and page.total == len(OIL) and page.pages == 3
        assert page.page == number and len(page.items) == (5 if number < 3 else 2)
        seen += [h.id for h in page.items]
    assert len(seen) == len(set(seen)) == len(OIL)
    last = await svc.search("нефть", page=99, per_page=5)
    assert last is not None and last.page == 3  # clamped to the last page
    page = await svc.search("нефть", page=1, per_page=20)
    assert page is not None
    dates = [h.published_at for h in page.items]
    assert dates == sorted(dates, reverse=True)  # equal relevance: newest first


async def test_pages_across_the_all_and_some_tiers(svc: SearchService) -> None:
    ids: list[int] = []
    for number in range(1, 5):
        page = await svc.search("учения нефть", page=number, per_page=4)
        assert page is not None
        ids += [h.id for h in page.items]
    assert len(ids) == len(set(ids)) == 3 + len(OIL)


async def test_snippet_is_plain_text_with_marked_words(svc: SearchService) -> None:
    page = await svc.search("учениях")
    assert page is not None
    hit: SearchHit = next(h for h in page.items if h.title == DRILLS)
    assert f"{MARK_START}учения{MARK_END}" in hit.snippet
    assert f"{MARK_START}учениях{MARK_END}" in hit.snippet
    assert "AT&T <script>" in hit.snippet  # verbatim: escaping is the formatter's job
    assert hit.published_at.tzinfo is not None and hit.score > 0


async def test_matches_uses_the_same_rules(svc: SearchService) -> None:
    partner = await _id_of(svc, PARTNER)
    assert await svc.matches(partner, "партнёр")
    assert await svc.matches(partner, "ПАРТНЁРАМИ беларусь")
    assert not await svc.matches(partner, "партнёр нефть")
    assert not await svc.matches(partner, "партнёр -беларусь")
    assert not await svc.matches(partner, "")
    assert not await svc.matches(10**30, "партнёр")
    assert not await svc.matches(-1, "партнёр")


async def test_latest_and_article(svc: SearchService) -> None:
    page = await svc.latest(per_page=2)
    assert page.total == len(ARTICLES) + len(OIL) and len(page.items) == 2
    assert page.items[0].title == PARTNER  # newest date first
    article = await svc.article(page.items[0].id)
    assert article is not None and article.title == PARTNER
    assert await svc.article(10**30) is None and await svc.article(0) is None


async def test_index_follows_an_edited_file(
    env: tuple[aiosqlite.Connection, Ingestor, Path], svc: SearchService
) -> None:
    _, ingestor, folder = env
    drills = await _id_of(svc, DRILLS)
    path = write_seed(
        folder,
        "drills.txt",
        "Манёвры «Запад-2025» пройдут в сентябре",
        ["Совместные манёвры начнутся осенью."],
        date="20 мая 2025 г. 09:00",
    )
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = await ingestor.scan()
    assert report.updated == 1
    assert DRILLS not in await _titles(svc, "учения")
    page = await svc.search("манёвры")
    assert page is not None and [h.id for h in page.items] == [drills]
    assert await svc.matches(drills, "маневр") and not await svc.matches(drills, "учения")


async def test_index_drops_a_withdrawn_article(
    env: tuple[aiosqlite.Connection, Ingestor, Path], svc: SearchService
) -> None:
    _, ingestor, folder = env
    partner = await _id_of(svc, PARTNER)
    (folder / "partner.txt").unlink()
    report = await ingestor.scan()
    assert report.withdrawn == 1
    assert PARTNER not in await _titles(svc, "партнёр")
    assert not await svc.matches(partner, "партнёр")
    assert await svc.article(partner) is None
    write_seed(folder, "partner.txt", *ARTICLES["partner.txt"][:2], date="21 мая 2025 г. 10:37")
    assert (await ingestor.scan()).restored == 1
    assert PARTNER in await _titles(svc, "партнёр")


async def test_cached_results_follow_database_changes(tmp_path: Path) -> None:
    """A repeated query is answered from the cache only while nothing was written."""
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Учения в Минске", ["Прошли учения."])
    conn = await open_db(tmp_path / "c.sqlite3")
    try:
        ingestor = Ingestor(conn, seeds, ZoneInfo("Europe/Moscow"))
        await ingestor.scan()
        service = SearchService(conn)
        first = await service.search("учениях")
        assert first is not None and first.total == 1
        assert await service.search("учениях") is first
        write_seed(seeds, "b.txt", "Новые учения", ["Снова учения."])
        await ingestor.scan()
        again = await service.search("учениях")
        assert again is not None and again.total == 2
    finally:
        await conn.close()


async def test_cached_results_notice_other_processes_within_the_check_interval(
    tmp_path: Path,
) -> None:
    """A commit by another connection shows once ``external_check`` seconds have passed."""
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Учения в Минске", ["Прошли учения."])
    db = tmp_path / "c.sqlite3"
    conn, other = await open_db(db), await open_db(db)
    now = [100.0]
    try:
        await Ingestor(conn, seeds, ZoneInfo("Europe/Moscow")).scan()
        service = SearchService(conn, external_check=0.5, clock=lambda: now[0])
        first = await service.search("учениях")
        latest = await service.latest()
        assert first is not None and first.total == 1 and latest.total == 1
        write_seed(seeds, "b.txt", "Новые учения", ["Снова учения."])
        await Ingestor(other, seeds, ZoneInfo("Europe/Moscow")).scan()  # "another process"
        now[0] += 0.4
        assert await service.search("учениях") is first  # not asked yet: the cached page
        now[0] += 0.1
        again = await service.search("учениях")
        assert again is not None and again.total == 2
        assert (await service.latest()).total == 2
    finally:
        await other.close()
        await conn.close()


async def test_cache_ignores_other_writes_and_forgets_pages_read_before_a_rollback(
    tmp_path: Path,
) -> None:
    """Outbox/state writes keep cached pages; a rolled-back article write drops them."""
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Учения в Минске", ["Прошли учения."])
    conn = await open_db(tmp_path / "c.sqlite3")
    try:
        await Ingestor(conn, seeds, ZoneInfo("Europe/Moscow")).scan()
        service = SearchService(conn)
        first = await service.search("учениях")
        latest = await service.latest()
        assert first is not None and first.total == 1
        async with transaction(conn):
            await state.put(conn, "note", "not an article")
        assert await service.search("учениях") is first
        assert await service.latest() is latest
        with pytest.raises(RuntimeError):
            async with transaction(conn):
                await articles.withdraw(conn, first.items[0].id, now=0.0)
                inside = await service.search("учениях")
                assert inside is not None and inside.total == 0  # the uncommitted withdrawal
                raise RuntimeError("the batch fails")
        after = await service.search("учениях")
        assert after is not None and after.total == 1 and (await service.latest()).total == 1
    finally:
        await conn.close()


async def test_store_rejects_an_expression_fts5_refuses_with_a_typed_error(
    env: tuple[aiosqlite.Connection, Ingestor, Path],
) -> None:
    conn = env[0]
    with pytest.raises(fts.QueryRejected, match="syntax error"):
        await fts.count(conn, 'AND "нефть"')
    with pytest.raises(fts.QueryRejected):
        await fts.matches(conn, '"нефть" NEAR(', 1)
    with pytest.raises(fts.QueryRejected):
        await fts.ranked(conn, "(", total=5, weights=(1.0, 1.0, 1.0), offset=0, limit=5, cap=9)
    assert await fts.count(conn, '"нефт"') == len(OIL)  # a well-formed one still runs
