"""Ingest on real SQLite files: idempotency, edits in place, withdrawals, failure isolation."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.services import seedwalk
from bot.services.ingest import IngestError, Ingestor
from bot.store import articles, files, state
from bot.store.db import (
    BULK_CACHE_KIB,
    CACHE_KIB,
    SCHEMA_VERSION,
    StoreError,
    bulk_cache,
    open_db,
    savepoint,
    scalar,
    transaction,
)
from tests.helpers import REAL_SEED, copy_seeds, write_seed

MSK = ZoneInfo("Europe/Moscow")
TITLE = (
    "В России назвали Беларусь стратегическим партнером в сфере военно-технического сотрудничества"
)


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await open_db(tmp_path / "db" / "bot.sqlite3")
    yield c
    await c.close()


async def fts_ids(conn: aiosqlite.Connection, match: str) -> list[int]:
    async with conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", (match,)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def test_open_db_sets_pragmas_and_version(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    assert (tmp_path / "db" / "bot.sqlite3").exists()
    async with conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with conn.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1
    async with conn.execute("PRAGMA cache_size") as cur:
        assert (await cur.fetchone())[0] == -CACHE_KIB
    async with conn.execute("PRAGMA user_version") as cur:
        assert (await cur.fetchone())[0] == SCHEMA_VERSION


async def test_reopen_keeps_data_and_rejects_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    c = await open_db(path)
    await Ingestor(c, copy_seeds(tmp_path / "seeds"), MSK).scan()
    await c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    await c.close()
    with pytest.raises(StoreError, match="newer"):
        await open_db(path)


async def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "junk.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        await open_db(bad)


async def test_real_seed_is_ingested_once(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    ingestor = Ingestor(conn, seeds, MSK)
    first = await ingestor.scan()
    assert (first.added, first.updated, first.unchanged, first.withdrawn) == (1, 0, 0, 0)
    assert first.failed == []
    [article_id] = first.added_ids
    article = await articles.get_article(conn, article_id)
    assert article is not None
    assert article.title == TITLE
    assert article.published_at == datetime(2025, 5, 21, 10, 37, tzinfo=MSK)
    assert article.credit == "Виктор Толочко / РИА Новости"
    assert article.source == REAL_SEED.name
    assert article.lead.startswith("В Федеральной службе по военно-техническому")
    assert "Комментарии" not in " ".join(article.body)
    assert await fts_ids(conn, '"партнер"') == [article_id]

    second = await ingestor.scan()
    assert (second.added, second.updated, second.unchanged, second.withdrawn) == (0, 0, 1, 0)
    assert second.added_ids == []


async def test_touched_file_with_same_content_is_unchanged(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    ingestor = Ingestor(conn, seeds, MSK)
    await ingestor.scan()
    path = seeds / REAL_SEED.name
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = await ingestor.scan()
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    article = (await articles.latest(conn, offset=0, limit=1))[0]
    full = await articles.get_article(conn, article.id)
    assert full is not None and full.updated_at is None


async def test_edit_updates_in_place_and_reindexes(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Учения прошли в Минске", ["Первый абзац о погоде.", "Второй."])
    write_seed(seeds, "b.txt", "Другая новость", ["Текст другой новости."])
    ingestor = Ingestor(conn, seeds, MSK)
    first = await ingestor.scan()
    assert first.added == 2
    ids = {a.title: a.id for a in await articles.latest(conn, offset=0, limit=10)}
    a_id = ids["Учения прошли в Минске"]
    assert await fts_ids(conn, '"погод"') == [a_id]

    write_seed(seeds, "a.txt", "Учения прошли в Бресте", ["Первый абзац о партнерах.", "Второй."])
    report = await ingestor.scan()
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    edited = await articles.get_article(conn, a_id)
    assert edited is not None
    assert edited.title == "Учения прошли в Бресте"
    assert edited.updated_at is not None
    assert await fts_ids(conn, '"погод"') == []
    assert await fts_ids(conn, '"партнер"') == [a_id]
    assert {a.id for a in await articles.latest(conn, offset=0, limit=10)} == set(ids.values())


async def test_removed_file_is_withdrawn_and_restored_with_same_id(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    path = write_seed(seeds, "a.txt", "Новость о погоде", ["Синоптики обещают дождь."])
    write_seed(seeds, "b.txt", "Новость о спорте", ["Команда выиграла."])
    ingestor = Ingestor(conn, seeds, MSK)
    await ingestor.scan()
    [a_id] = await fts_ids(conn, '"дожд"')
    text = path.read_text(encoding="utf-8")
    path.unlink()
    report = await ingestor.scan()
    assert (report.withdrawn, report.unchanged) == (1, 1)
    assert await articles.get_article(conn, a_id) is None
    assert await fts_ids(conn, '"дожд"') == []
    assert await articles.count_visible(conn) == 1
    assert (await ingestor.scan()).withdrawn == 0

    path.write_text(text, encoding="utf-8")
    back = await ingestor.scan()
    assert back.added == 0 and back.restored == 1
    assert await articles.get_article(conn, a_id) is not None
    assert await fts_ids(conn, '"дожд"') == [a_id]


async def test_broken_files_are_reported_by_name_and_do_not_stop_others(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (seeds / "huge.txt").write_bytes(b"a" * (2 * 1024 * 1024 + 10))
    (seeds / "notes.md").write_text("not a seed", encoding="utf-8")
    write_seed(seeds, "zz_good.txt", "Хорошая новость", ["Всё работает."])
    ingestor = Ingestor(conn, seeds, MSK)
    report = await ingestor.scan()
    assert report.added == 2
    assert [f.name for f in report.failed] == ["binary.txt", "empty.txt", "huge.txt"]
    assert all(f.reason for f in report.failed)

    again = await ingestor.scan()
    assert [f.name for f in again.failed] == ["binary.txt", "empty.txt", "huge.txt"]
    assert again.unchanged == 2 and again.added == 0

    write_seed(seeds, "empty.txt", "Исправленная новость", ["Теперь файл в порядке."])
    fixed = await ingestor.scan()
    assert fixed.added == 1
    assert [f.name for f in fixed.failed] == ["binary.txt", "huge.txt"]

    (seeds / "binary.txt").unlink()
    gone = await ingestor.scan()
    assert [f.name for f in gone.failed] == ["huge.txt"]


async def test_edit_that_breaks_a_file_keeps_the_old_article_until_fixed_or_deleted(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    """The last good version stays while the file is broken (its failure reported every scan,
    without re-reading it); a fix updates it in place; deleting the file clears both."""
    seeds = tmp_path / "seeds"
    path = write_seed(seeds, "a.txt", "Новость", ["Текст новости."])
    ingestor = Ingestor(conn, seeds, MSK)
    [a_id] = (await ingestor.scan()).added_ids
    path.write_bytes(b"\x00\x01\x02" * 100)
    report = await ingestor.scan()
    assert [f.name for f in report.failed] == ["a.txt"]
    kept = await articles.get_article(conn, a_id)
    assert kept is not None and kept.title == "Новость"
    assert [f.name for f in (await ingestor.scan()).failed] == ["a.txt"]
    write_seed(seeds, "a.txt", "Новость, исправленная", ["Текст новости."])
    fixed = await ingestor.scan()
    assert (fixed.failed, fixed.updated) == ([], 1)
    fixed_article = await articles.get_article(conn, a_id)
    assert fixed_article is not None and fixed_article.title == "Новость, исправленная"
    path.write_bytes(b"\x00" * 300)
    await ingestor.scan()
    path.unlink()
    gone = await ingestor.scan()
    assert (gone.failed, gone.withdrawn) == ([], 1)
    assert await articles.failure_states(conn) == {}


async def test_scan_in_chunks_finds_gone_files_even_when_their_hashes_collide(
    conn: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk is looked up a chunk at a time and gone files are found by hash: chunks smaller
    than the folder, and a walk whose every name "collides", still find exactly the files gone."""
    monkeypatch.setattr(seedwalk, "WALK_CHUNK", 2)
    monkeypatch.setattr(files, "STAMP_QUERY", 1)
    seeds = tmp_path / "seeds"
    paths = [write_seed(seeds, f"{i}.txt", f"Новость номер {i}", ["Текст."]) for i in range(5)]
    ingestor = Ingestor(conn, seeds, MSK)
    assert (await ingestor.scan()).added == 5
    assert (await ingestor.scan()).unchanged == 5
    paths[1].unlink()
    report = await ingestor.scan()
    assert (report.withdrawn, report.unchanged) == (1, 4)
    paths[3].unlink()
    monkeypatch.setattr(seedwalk.Listing, "saw", lambda self, source: True)
    report = await ingestor.scan()
    assert (report.withdrawn, report.unchanged) == (1, 3)
    assert sorted([s async for s in files.present_sources(conn)]) == ["0.txt", "2.txt", "4.txt"]


async def test_nested_folders_count_and_hidden_entries_do_not(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds / "2025" / "05", "a.txt", "Майская новость", ["Текст."])
    write_seed(seeds / "2025", "B.TXT", "Годовая новость", ["Текст."])
    write_seed(seeds / ".drafts", "c.txt", "Черновик", ["Текст."])
    write_seed(seeds, ".d.txt", "Скрытый файл", ["Текст."])
    (seeds / "folder.txt").mkdir()  # a folder named like a seed is walked, not read
    write_seed(seeds / "folder.txt", "inner.txt", "Вложенная новость", ["Текст."])
    report = await Ingestor(conn, seeds, MSK).scan()
    assert (report.added, report.failed) == (3, [])
    present = [source async for source in files.present_sources(conn)]
    assert sorted(present) == ["2025/05/a.txt", "2025/B.TXT", "folder.txt/inner.txt"]
    assert (await Ingestor(conn, seeds, MSK).scan()).unchanged == 3


async def test_added_ids_are_oldest_first_and_stable(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Поздняя", ["Текст."], date="3 июня 2025 г. 09:00")
    write_seed(seeds, "b.txt", "Ранняя", ["Текст."], date="1 июня 2025 г. 09:00")
    write_seed(seeds, "c.txt", "Средняя", ["Текст."], date="2 июня 2025 г. 09:00")
    ingestor = Ingestor(conn, seeds, MSK)
    report = await ingestor.scan()
    titles = [(await articles.get_article(conn, i)).title for i in report.added_ids]  # type: ignore[union-attr]
    assert titles == ["Ранняя", "Средняя", "Поздняя"]
    assert await articles.newest_ids(conn, 2) == report.added_ids[1:]


async def test_missing_folder_is_an_ingest_error(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        await Ingestor(conn, tmp_path / "nope", MSK).scan()


async def test_large_scan_uses_worker_processes_with_same_result(
    conn: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process-pool path (cold starts) stores exactly what the thread path stores."""
    import bot.services.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "POOL_THRESHOLD", 2)
    monkeypatch.setattr(ingest_module, "BATCH", 2)
    monkeypatch.setattr(ingest_module.os, "cpu_count", lambda: 2)
    seeds = copy_seeds(tmp_path / "seeds")
    for i in range(5):
        write_seed(seeds, f"n{i}.txt", f"Учения номер {i}", [f"Текст {i} о погоде."])
    (seeds / "empty.txt").write_bytes(b"")
    report = await Ingestor(conn, seeds, MSK).scan()
    assert report.added == 6
    assert [f.name for f in report.failed] == ["empty.txt"]
    assert len(await fts_ids(conn, '"погод"')) == 5
    article = await articles.get_article(conn, report.added_ids[0])
    assert article is not None and article.title == TITLE
    assert await scalar(conn, "PRAGMA cache_size") == -CACHE_KIB  # the big scan's cache is undone


async def test_a_big_scan_writes_with_sqlites_default_cache(conn: aiosqlite.Connection) -> None:
    async with bulk_cache(conn):
        assert await scalar(conn, "PRAGMA cache_size") == -BULK_CACHE_KIB
    assert await scalar(conn, "PRAGMA cache_size") == -CACHE_KIB


async def test_a_database_error_undoes_that_file_only(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    for name, title in (
        ("a.txt", "Первая новость"),
        ("b.txt", "Сломает базу"),
        ("c.txt", "Третья"),
    ):
        write_seed(seeds, name, title, ["Текст новости."])
    await conn.execute(
        "CREATE TEMP TRIGGER refuse AFTER INSERT ON articles WHEN NEW.title = 'Сломает базу' "
        "BEGIN SELECT RAISE(ABORT, 'database is full'); END"
    )
    ingestor = Ingestor(conn, seeds, MSK)
    report = await ingestor.scan()
    assert report.added == 2 and [f.name for f in report.failed] == ["b.txt"]
    assert report.failed[0].reason == "database error: database is full"
    assert len(await fts_ids(conn, "новост")) == 2 == await articles.count_visible(conn)
    await conn.execute("DROP TRIGGER refuse")
    again = await ingestor.scan()
    assert (again.added, again.unchanged, again.failed) == (1, 2, [])


async def test_savepoint_undoes_only_its_block(conn: aiosqlite.Connection) -> None:
    async with transaction(conn):
        await state.put(conn, "kept", "1")
        with pytest.raises(aiosqlite.IntegrityError):
            async with savepoint(conn):
                await state.put(conn, "undone", "1")
                await conn.execute("INSERT INTO state (key, value) VALUES ('kept', 'again')")
        await state.put(conn, "after", "1")
    assert [await state.get(conn, k) for k in ("kept", "undone", "after")] == ["1", None, "1"]
