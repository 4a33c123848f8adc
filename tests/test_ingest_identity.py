"""Ingest on real files and SQLite: settling, renames, copies, withdrawal timing, revisions and
corrections, on an injected clock (the files' own mtimes are real)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.store import articles, corrections, files, outbox
from bot.store.db import open_db, transaction
from tests.helpers import MSK, REAL_SEED, copy_seeds, seed_text, write_seed

S = 10.0


class Clock:
    """Real time plus a skip, so fresh files' mtimes and the settle clock agree."""

    def __init__(self) -> None:
        self.skip = 0.0

    def __call__(self) -> float:
        return time.time() + self.skip


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    c = await open_db(tmp_path / "db" / "bot.sqlite3")
    yield c
    await c.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def settling(conn: aiosqlite.Connection, seeds: Path, clock: Clock) -> Ingestor:
    return Ingestor(conn, seeds, MSK, settle_seconds=S, clock=clock)


async def real_seed_ingested(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock | None
) -> tuple[Path, Ingestor, int]:
    """A copy of the real seeds, scanned once: (folder, its ingestor, the article's id).
    ``clock`` None: no settle time."""
    seeds = copy_seeds(tmp_path / "seeds")
    ingestor = Ingestor(conn, seeds, MSK) if clock is None else settling(conn, seeds, clock)
    [a_id] = (await ingestor.scan()).added_ids
    return seeds, ingestor, a_id


def age(path: Path, seconds: float) -> None:
    """Make a file look written ``seconds`` ago (as a backlog file would)."""
    when = time.time() - seconds
    os.utime(path, (when, when))


async def visible_ids(conn: aiosqlite.Connection) -> list[int]:
    return [a.id for a in await articles.latest(conn, offset=0, limit=50)]


async def revision(conn: aiosqlite.Connection, article_id: int) -> int:
    article = await articles.get_article_any(conn, article_id)
    assert article is not None
    return article.revision


async def announce(conn: aiosqlite.Connection, ids: list[int]) -> None:
    async with transaction(conn):
        await outbox.mark_announced(conn, ids)


async def test_a_fresh_file_is_applied_only_once_settled(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock
) -> None:
    seeds = tmp_path / "seeds"
    path = seeds / "a.txt"
    seeds.mkdir()
    whole = seed_text("Учения прошли в Минске", ["Первый абзац.", "Второй абзац."])
    path.write_text(whole[: len(whole) // 3], encoding="utf-8")  # the first part
    ingestor = settling(conn, seeds, clock)
    first = await ingestor.scan()
    assert (first.added, first.settling) == (0, 1)
    assert first.settle_at is not None and first.settle_at > time.time() + S - 1
    assert await visible_ids(conn) == []
    clock.skip = 3
    path.write_text(whole, encoding="utf-8")  # the rest, "3 s later"
    age(path, -3)
    assert (await ingestor.scan()).added == 0
    clock.skip = S + 1  # the first part's deadline has passed, the whole file's has not
    assert (await ingestor.scan()).added == 0
    clock.skip = S + 3.5
    done = await ingestor.scan()
    assert (done.added, done.settling, done.settle_at) == (1, 0, None)
    [article] = [await articles.get_article(conn, i) for i in done.added_ids]
    assert article is not None and article.body == ("Второй абзац.",)


async def test_backlog_files_are_settled_at_once(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock
) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    age(seeds / REAL_SEED.name, 3600)
    report = await settling(conn, seeds, clock).scan()
    assert (report.added, report.settling) == (1, 0)


async def test_rename_within_one_scan_keeps_the_article(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock
) -> None:
    seeds, ingestor, a_id = await real_seed_ingested(conn, tmp_path, clock)
    (seeds / "2025").mkdir()
    os.rename(seeds / REAL_SEED.name, seeds / "2025" / "renamed.txt")  # mtime kept
    report = await ingestor.scan()
    assert (report.added, report.withdrawn, report.moved, report.duplicates) == (0, 0, 1, [])
    assert await visible_ids(conn) == [a_id]
    clock.skip = S + 1  # the old name is gone for good now: still no withdrawal
    later = await ingestor.scan()
    assert (later.added, later.withdrawn, later.settling) == (0, 0, 0)
    assert await visible_ids(conn) == [a_id]
    assert await files.present_files(conn, a_id) == ["2025/renamed.txt"]
    assert await revision(conn, a_id) == 1


async def test_delete_then_create_across_scans_is_a_rename(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock
) -> None:
    seeds, ingestor, a_id = await real_seed_ingested(conn, tmp_path, clock)
    held = tmp_path / "held.txt"
    shutil.move(seeds / REAL_SEED.name, held)
    gap = await ingestor.scan()  # the scraper deleted it; the new name is not there yet
    assert (gap.withdrawn, gap.settling) == (0, 1)
    assert await visible_ids(conn) == [a_id]
    clock.skip = S / 2
    shutil.move(held, seeds / "new-name.txt")
    back = await ingestor.scan()
    assert (back.added, back.withdrawn, back.moved) == (0, 0, 1)
    clock.skip = S * 3
    assert (await ingestor.scan()).withdrawn == 0
    assert await visible_ids(conn) == [a_id] and await revision(conn, a_id) == 1


async def test_withdrawal_waits_for_the_settle_time_then_a_return_keeps_the_id(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock
) -> None:
    seeds, ingestor, a_id = await real_seed_ingested(conn, tmp_path, clock)
    data = (seeds / REAL_SEED.name).read_bytes()
    (seeds / REAL_SEED.name).unlink()
    assert (await ingestor.scan()).withdrawn == 0
    clock.skip = S - 1
    assert (await ingestor.scan()).withdrawn == 0
    assert await visible_ids(conn) == [a_id]
    clock.skip = S + 1
    gone = await ingestor.scan()
    assert (gone.withdrawn, gone.settling, gone.settle_at) == (1, 0, None)
    assert await visible_ids(conn) == [] and await revision(conn, a_id) == 2
    (seeds / "elsewhere.txt").write_bytes(data)  # the same article under another name
    age(seeds / "elsewhere.txt", 60)
    back = await ingestor.scan()
    assert (back.added, back.restored) == (0, 1)
    assert await visible_ids(conn) == [a_id] and await revision(conn, a_id) == 3


async def test_a_copy_is_a_duplicate_listed_once_and_its_removal_withdraws_nothing(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds, ingestor, a_id = await real_seed_ingested(conn, tmp_path, None)
    text = (seeds / REAL_SEED.name).read_text(encoding="utf-8")
    # saved again by the scraper: other line ends, no photo credit, other sidebar
    copy = text.replace("Фото: Виктор Толочко / РИА Новости\n", "").replace("\n", "\r\n")
    (seeds / "copy.txt").write_text(copy + "\r\nПопулярное\r\nЧто-то ещё\r\n", encoding="utf-8")
    report = await ingestor.scan()
    assert (report.added, report.duplicates, report.moved) == (0, ["copy.txt"], 0)
    assert "duplicates 1" in report.summary()
    page = await SearchService(conn).search("партнёр")
    assert page is not None and [h.id for h in page.items] == [a_id]
    assert await visible_ids(conn) == [a_id]
    article = await articles.get_article(conn, a_id)
    assert article is not None and article.credit == "Виктор Толочко / РИА Новости"
    (seeds / REAL_SEED.name).unlink()  # the original goes, the copy stays
    assert (await ingestor.scan()).withdrawn == 0
    assert await visible_ids(conn) == [a_id]
    (seeds / "copy.txt").unlink()
    assert (await ingestor.scan()).withdrawn == 1


async def test_copies_in_one_scan_make_one_article(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        write_seed((seeds / name).parent, Path(name).name, "Одна новость", ["Её текст."])
    report = await Ingestor(conn, seeds, MSK).scan()
    assert (report.added, sorted(report.duplicates)) == (1, ["b.txt", "sub/c.txt"])
    assert len(await visible_ids(conn)) == 1


async def test_corrections_bump_the_revision_and_are_recorded_once_announced(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Учения прошли в Минске", ["Первый абзац.", "Второй."])
    ingestor = Ingestor(conn, seeds, MSK)
    [a_id] = (await ingestor.scan()).added_ids
    write_seed(seeds, "a.txt", "Учения прошли в Бресте", ["Первый абзац.", "Второй."])
    assert (await ingestor.scan()).updated == 1
    assert await revision(conn, a_id) == 2
    assert await corrections.unnoted(conn) == []  # not announced yet: nothing was delivered

    await announce(conn, [a_id])
    write_seed(seeds, "a.txt", "Учения прошли в Гродно", ["Первый абзац.", "Второй, исправлен."],
               credit="Фото: РИА Новости")  # fmt: skip
    assert (await ingestor.scan()).updated == 1
    [c] = await corrections.unnoted(conn)
    assert (c.article_id, c.revision, c.fields) == (a_id, 3, ("title", "text", "credit"))
    write_seed(seeds, "a.txt", "Учения прошли в Гродно", ["Первый абзац.", "Второй, исправлен."],
               credit="Фото: РИА Новости", date="22 мая 2025 г. 10:37")  # fmt: skip
    await ingestor.scan()
    assert [x.fields for x in await corrections.unnoted(conn)] == [
        ("title", "text", "credit"),
        ("date",),
    ]
    async with transaction(conn):
        await corrections.mark_noted(conn, [c.id])
    assert [x.revision for x in await corrections.unnoted(conn)] == [4]
    assert await corrections.count(conn) == 2


async def test_sidebar_or_promo_only_changes_nothing(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds, ingestor, a_id = await real_seed_ingested(conn, tmp_path, None)
    await announce(conn, [a_id])
    path = seeds / REAL_SEED.name
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\nЕщё одна новость в сайдбаре\n", encoding="utf-8")
    report = await ingestor.scan()
    assert (report.updated, report.unchanged) == (0, 1)
    promo = text.replace("Читайте актуальные новости", "Подписывайтесь на актуальные новости")
    assert promo != text
    path.write_text(promo, encoding="utf-8")
    assert (await ingestor.scan()).updated == 0
    assert await revision(conn, a_id) == 1 and await corrections.count(conn) == 0


async def test_a_copy_still_settling_keeps_the_article(
    conn: aiosqlite.Connection, tmp_path: Path, clock: Clock
) -> None:
    """The last old name expires while the new copy is still being rewritten."""
    seeds, ingestor, a_id = await real_seed_ingested(conn, tmp_path, clock)
    data = (seeds / REAL_SEED.name).read_bytes()
    (seeds / REAL_SEED.name).unlink()
    (seeds / "fresh.txt").write_bytes(data)
    assert (await ingestor.scan()).settling == 2
    clock.skip = S + 1
    (seeds / "fresh.txt").write_bytes(data + b"\n")  # rewritten: settles again from now
    age(seeds / "fresh.txt", -(S + 1))
    report = await ingestor.scan()
    assert report.withdrawn == 0 and await visible_ids(conn) == [a_id]
    clock.skip = 2 * S + 2
    final = await ingestor.scan()
    assert (final.withdrawn, final.added, final.moved) == (0, 0, 1)
    assert await visible_ids(conn) == [a_id] and await revision(conn, a_id) == 1


async def test_a_migrated_database_keeps_ids_and_finds_copies(tmp_path: Path) -> None:
    """A version-3 database (feeds, before identity keys): the files keep their articles and
    the first scan keys the old articles, so a copy is a duplicate."""
    seeds = copy_seeds(tmp_path / "seeds")
    db = tmp_path / "old.sqlite3"
    c = await open_db(db)
    [a_id] = (await Ingestor(c, seeds, MSK).scan()).added_ids
    await c.close()
    raw = sqlite3.connect(db)
    raw.executescript(
        "DROP TRIGGER articles_first_file; DROP TRIGGER articles_keyed; "
        "DROP TABLE corrections; DROP TABLE article_keys; DROP TABLE seed_files; "
        "DROP INDEX articles_unkeyed; ALTER TABLE articles DROP COLUMN identity_key; "
        "ALTER TABLE articles DROP COLUMN revision; DROP TABLE target_state; "
        "DROP TABLE approvals; DROP TABLE admin_langs; PRAGMA user_version = 3;"
    )
    raw.close()
    c = await open_db(db)
    try:
        shutil.copy(seeds / REAL_SEED.name, seeds / "copy.txt")
        report = await Ingestor(c, seeds, MSK).scan()
        assert (report.added, report.unchanged, report.duplicates) == (0, 1, ["copy.txt"])
        assert [a.id for a in await articles.latest(c, offset=0, limit=5)] == [a_id]
    finally:
        await c.close()
