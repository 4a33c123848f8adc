"""The cheaper statements behind a search find exactly what the plain ones would: the title
expressions of forgiving tiers, the cutoff found while counting, ranking in one statement.
Real SQLite files filled through the real ingest pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.services.ingest import Ingestor
from bot.services.search import WEIGHTS, SearchService, _cheaper_titles
from bot.store import fts
from bot.store.db import open_db
from tests.helpers import MSK, write_seed

QUERIES = [
    "стратегия парт",  # the last word completed: typed, completed (paired), any word
    "россии партн",
    "партнеры страт",
    "белорусия партнерство",  # a typo: a corrected tier
    "партнерство россии нефти рын",  # four words: all, all but one, any (each forgiven too)
    "партнеры страт -нефть",  # with an exclusion the expressions stay as they were
]


def _seed(seeds: Path) -> None:
    day = 1
    for i in range(6):
        write_seed(
            seeds,
            f"s{i}.txt",
            f"Партнеры обсудили стратегию {i}",
            ["Стратегическое партнерство России и Белоруссии."],
            date=f"{day + i} марта 2025 г. 10:00",
        )
    for i in range(5):
        write_seed(
            seeds,
            f"p{i}.txt",
            f"Партия выбрала лидера {i}",
            ["Партнер партии по коалиции — «Россия»." + " Стратегия." * (i % 2)],
            date=f"{day + i} апреля 2025 г. 10:00",
        )
    for i in range(7):
        write_seed(
            seeds,
            f"n{i}.txt",
            f"Новости рынка нефти {i}",
            [f"Нефть дорожает {i} день. Партнерство стран-экспортеров крепнет."],
            date=f"{day + i} мая 2025 г. 10:00",
        )
    write_seed(seeds, "b.txt", "Стратегический партнер", ["Белоруссия и Россия."])


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[SearchService]:
    seeds = tmp_path / "seeds"
    _seed(seeds)
    conn = await open_db(tmp_path / "bot.sqlite3")
    report = await Ingestor(conn, seeds, MSK).scan()
    assert report.added == 19 and not report.failed
    yield SearchService(conn)
    await conn.close()


async def _ids(conn: aiosqlite.Connection, expr: str) -> set[int]:
    return {t.id for t in await fts.title_group(conn, expr, limit=1000)}


async def test_cheaper_title_expressions_find_the_same_articles(service: SearchService) -> None:
    found = shorter = most = 0
    for text in QUERIES:
        q = await service._prepare(text, forgiving=True)
        assert q is not None and q.forgiven
        tiers = q.tiers()
        cheaper = _cheaper_titles(q, tiers)
        assert len(cheaper) == len(tiers) >= 2
        most = max(most, len(tiers))
        for i, (plain, cheap) in enumerate(zip(tiers, cheaper, strict=True)):
            titled = await _ids(service.conn, plain.titled)
            assert await _ids(service.conn, cheap.titled) == titled, (text, i)
            found += len(titled)
            if i:
                retitled = await _ids(service.conn, plain.retitled)
                assert await _ids(service.conn, cheap.retitled) == retitled, (text, i)
                found += len(retitled)
                shorter += len(cheap.titled) < len(plain.titled)
            assert (cheap.match, cheap.upto, cheap.title) == (plain.match, plain.upto, plain.title)
        if q.exclude:
            assert cheaper == tiers
    # The sets compared are not empty, the expressions differ, and some query has four tiers.
    assert found > 20 and shorter > 5 and most >= 4


async def test_counting_finds_the_cutoff_ranking_would(service: SearchService) -> None:
    conn = service.conn
    for expr in ('"нефт"', '"партнерств" OR "стратег"', '"росс" AND "партнер"'):
        total = await fts.count(conn, expr)
        assert total > 0
        for upto, cap in ((4, 3), (6, 5), (total + 1, total), (total + 5, total + 2)):
            want = (await fts.count(conn, expr, upto), await fts._cutoff(conn, expr, cap))
            assert await fts.count_and_cutoff(conn, expr, upto, cap) == want
    assert await fts.count_and_cutoff(conn, '"нефт"', 99, 98) == (7, 0)  # fewer than cap: 0


async def test_ranking_with_or_without_a_known_cutoff_follows_the_contract(
    service: SearchService,
) -> None:
    conn = service.conn
    expr = '"нефт"'
    rows = await conn.execute_fetchall(
        "SELECT f.rowid, bm25(articles_fts, 10.0, 3.0, 1.0), a.published_at "
        "FROM articles_fts f JOIN articles a ON a.id = f.rowid WHERE articles_fts MATCH ?",
        (expr,),
    )
    total = len(rows)
    assert total == 7
    for cap in (3, 5, 7, 50):
        newest = sorted(rows, key=lambda r: -r[0])
        ranked = sorted(newest[:cap], key=lambda r: (r[1], -r[2], -r[0]))
        want = [(int(r[0]), -float(r[1])) for r in ranked]
        want += [(int(r[0]), 0.0) for r in newest[cap:]]
        cut = (await fts.count_and_cutoff(conn, expr, total + cap, cap))[1]
        for offset in range(total):
            for limit in (1, 2, 5):
                args = {"total": total, "weights": WEIGHTS, "offset": offset, "limit": limit}
                page = await fts.ranked(conn, expr, cap=cap, **args)  # type: ignore[arg-type]
                assert page == want[offset : offset + limit], (cap, offset, limit)
                known = await fts.ranked(conn, expr, cap=cap, cut=cut, **args)  # type: ignore[arg-type]
                assert known == page
