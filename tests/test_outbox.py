"""Outbox store and queueing on temp SQLite files: backlog, fan-out once, atomicity, heads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from bot.services.publishing import PostOutcome
from bot.services.subscriptions import Outcome
from bot.store import outbox, state
from bot.store.db import transaction, write_lock
from tests.helpers import publishing_service, seed_article


async def channel_articles(conn: aiosqlite.Connection, chat: str = "@news") -> list[int]:
    return [d.article_id for d in await outbox.all_deliveries(conn) if d.chat_id == chat]


async def titles(conn: aiosqlite.Connection, ids: list[int]) -> list[str]:
    out = []
    for i in ids:
        async with conn.execute("SELECT title FROM articles WHERE id = ?", (i,)) as cur:
            out.append((await cur.fetchone())[0])
    return out


async def test_fresh_db_queues_only_newest_backlog_oldest_first(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    for i in (5, 1, 7, 3, 2, 6, 4, 8):
        seed_article(seeds, i)
    pub = publishing_service(conn, seeds, backlog=3)
    result = await pub.tick()
    assert result.report.added == 8
    assert result.queued.channel == 3
    ids = await channel_articles(conn)
    assert await titles(conn, ids) == ["Новость номер 6", "Новость номер 7", "Новость номер 8"]
    assert await outbox.unannounced(conn) == []
    assert await state.get(conn, state.BACKLOG_DONE) == "1"
    # nothing new: nothing queued again
    assert (await pub.tick()).queued.total == 0
    # a new file (even with an older date) is queued once on the next tick
    seed_article(seeds, 0, "Запоздавшая новость")
    assert (await pub.tick()).queued.channel == 1
    assert (await titles(conn, await channel_articles(conn)))[-1] == "Запоздавшая новость"
    assert (await pub.tick()).queued.total == 0


async def test_backlog_zero_and_empty_first_scan(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    pub = publishing_service(conn, seeds, backlog=0)
    assert (await pub.tick()).queued.total == 0  # empty folder: backlog decided anyway
    assert await state.get(conn, state.BACKLOG_DONE) == "1"
    for i in range(3):
        seed_article(seeds, i)
    assert (await pub.tick()).queued.channel == 3  # not a fresh DB any more: all queued


async def test_backlog_zero_on_fresh_db_queues_nothing(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    for i in range(4):
        seed_article(seeds, i)
    pub = publishing_service(conn, seeds, backlog=0)
    assert (await pub.tick()).queued.total == 0
    assert await outbox.unannounced(conn) == []
    seed_article(seeds, 9)
    assert (await pub.tick()).queued.channel == 1


async def test_subscribers_matched_once_and_no_channel(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    pub = publishing_service(conn, seeds, channel=None)
    subs = pub.subscriptions
    await pub.tick()
    assert (await subs.subscribe(1)).outcome is Outcome.ADDED  # everything
    assert (await subs.subscribe(2, "учения")).outcome is Outcome.ADDED
    assert (await subs.subscribe(2, "запад")).outcome is Outcome.ADDED  # both match: one alert
    assert (await subs.subscribe(3, "погода")).outcome is Outcome.ADDED
    seed_article(seeds, 1, "Учения «Запад-2025» начались", "Войска провели учения на западе.")
    seed_article(seeds, 2, "Курс рубля", "Рубль укрепился.")
    result = await pub.tick()
    assert result.queued.channel == 0 and result.queued.subscribers == 3
    rows = await outbox.all_deliveries(conn)
    assert {(d.chat_id, d.kind) for d in rows} == {("1", "subscriber"), ("2", "subscriber")}
    assert sorted(d.chat_id for d in rows) == ["1", "1", "2"]
    assert (await pub.status()).channel is None
    assert await pub.post(rows[0].article_id) is PostOutcome.NO_CHANNEL


async def test_withdrawn_before_tick_is_never_queued(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    pub = publishing_service(conn, seeds)
    await pub.tick()
    seed_article(seeds, 1)
    await pub.ingestor.scan()  # scanned elsewhere (e.g. at startup), not yet queued
    (seeds / "001.txt").unlink()
    assert (await pub.tick()).queued.total == 0
    assert await outbox.unannounced(conn) == []


async def test_queueing_is_atomic(
    conn: aiosqlite.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    for i in range(3):
        seed_article(seeds, i)
    pub = publishing_service(conn, seeds)
    await pub.ingestor.scan()

    async def boom(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "mark_announced", boom)
    with pytest.raises(RuntimeError):
        await pub.queue_new()
    assert await outbox.all_deliveries(conn) == []
    assert len(await outbox.unannounced(conn)) == 3
    assert await state.get(conn, state.BACKLOG_DONE) is None
    monkeypatch.undo()
    assert (await pub.queue_new()).channel == 3


async def test_manual_post_may_repeat_automatic_may_not(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seed_article(seeds, 1)
    pub = publishing_service(conn, seeds)
    await pub.tick()
    aid = (await outbox.all_deliveries(conn))[0].article_id
    async with write_lock(conn):
        assert not await outbox.enqueue(conn, aid, "@news", "channel", now=0)
    assert await pub.post(aid) is PostOutcome.QUEUED
    assert await pub.post(aid) is PostOutcome.QUEUED
    assert await pub.post(9999) is PostOutcome.NOT_FOUND
    rows = await outbox.all_deliveries(conn)
    assert [d.manual for d in rows] == [False, True, True]


async def test_heads_keep_per_chat_order(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(3):
        seed_article(seeds, i)
    pub = publishing_service(conn, seeds)
    await pub.subscriptions.subscribe(7)
    await pub.tick()
    heads = await outbox.due_heads(conn, 1e12, include_channel=True)
    assert [(d.chat_id, d.kind) for d in heads] == [("@news", "channel"), ("7", "subscriber")]
    first = heads[0]
    async with write_lock(conn):  # the channel's head waits: its later rows must wait too
        await outbox.reschedule(conn, first.id, at=5e11, error="429", count=False)
    heads = await outbox.due_heads(conn, 1e11, include_channel=True)
    assert [d.chat_id for d in heads] == ["7"]
    assert await outbox.next_try_at(conn, include_channel=True) == 0
    assert [d.chat_id for d in await outbox.due_heads(conn, 1e12, include_channel=False)] == ["7"]
    assert (await outbox.get(conn, first.id)).attempts == 0


async def test_move_chat_and_stats(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(3):
        seed_article(seeds, i)
    pub = publishing_service(conn, seeds, channel="-100")
    await pub.tick()
    rows = await outbox.all_deliveries(conn)
    async with transaction(conn):
        await outbox.enqueue(conn, rows[0].article_id, "-200", "channel", now=0)
        await outbox.mark_sent(conn, rows[1].id, message_id=11, now=1000.0)
        assert await outbox.move_chat(conn, "-100", "-200") == 1  # row 0 is a duplicate
        await state.record_migration(conn, "-100", "-200")
    assert await state.resolve_chat(conn, "-100") == "-200"
    assert await pub.channel_chat() == "-200"
    after = {d.id: d for d in await outbox.all_deliveries(conn)}
    assert after[rows[0].id].status == "cancelled"
    assert after[rows[2].id].chat_id == "-200"
    s = await outbox.stats(conn)
    assert (s.queued_channel, s.sent, s.cancelled, s.last_channel_post_at) == (2, 1, 1, 1000.0)


async def test_write_lock_serialises_transactions(conn: aiosqlite.Connection) -> None:
    order: list[str] = []

    async def slow() -> None:
        async with transaction(conn):
            await state.put(conn, "a", "1")
            order.append("a-in")
            await asyncio.sleep(0.05)
            order.append("a-out")
            raise RuntimeError("rolled back")

    async def quick() -> None:
        await asyncio.sleep(0.01)
        async with write_lock(conn):
            order.append("b")
            await state.put(conn, "b", "1")

    results = await asyncio.gather(slow(), quick(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert order == ["a-in", "a-out", "b"]
    assert await state.get(conn, "a") is None  # the rollback did not take b's write with it
    assert await state.get(conn, "b") == "1"
