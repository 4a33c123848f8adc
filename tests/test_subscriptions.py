"""Subscriptions with the real SearchService: morphology, validation, limits, once per reader."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.services.ingest import Ingestor
from bot.services.publishing import PublishingService
from bot.services.search import SearchService
from bot.services.subscriptions import MAX_PER_CHAT, Outcome, SubscriptionService
from bot.store import outbox
from tests.helpers import write_seed

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
async def pub(conn: aiosqlite.Connection, tmp_path: Path) -> PublishingService:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    service = PublishingService(
        conn,
        ingestor=Ingestor(conn, seeds, MSK),
        subscriptions=SubscriptionService(conn, SearchService(conn)),
        channel_id=None,
        backlog=5,
    )
    await service.tick()
    return service


async def test_keyword_subscription_uses_search_morphology(
    pub: PublishingService, tmp_path: Path, conn: aiosqlite.Connection
) -> None:
    subs = pub.subscriptions
    assert (await subs.subscribe(10, "учения")).outcome is Outcome.ADDED
    assert (await subs.subscribe(11, "Партнёр")).outcome is Outcome.ADDED
    assert (await subs.subscribe(12, "погода")).outcome is Outcome.ADDED
    assert (await subs.subscribe(13, "учения")).outcome is Outcome.ADDED
    assert (await subs.subscribe(13, "учениях армии")).outcome is Outcome.ADDED
    write_seed(
        tmp_path / "seeds",
        "a.txt",
        "Армия проводит манёвры",
        ["Начались совместные манёвры.", "В учениях участвуют тысячи военных и партнеров."],
    )
    result = await pub.tick()
    assert result.queued.subscribers == 3
    chats = sorted(d.chat_id for d in await outbox.all_deliveries(conn))
    assert chats == ["10", "11", "13"]  # 13 has two matching subscriptions: one alert


async def test_subscribe_validation_and_limits(pub: PublishingService) -> None:
    subs = pub.subscriptions
    assert (await subs.subscribe(1, "!!! ???")).outcome is Outcome.NOTHING_TO_SEARCH
    assert (await subs.subscribe(1, "x" * 500)).outcome is Outcome.TOO_LONG
    assert (await subs.subscribe(1)).outcome is Outcome.ADDED
    assert (await subs.subscribe(1, "")).outcome is Outcome.EXISTS
    assert (await subs.subscribe(1, "Учения   армии")).query == "Учения армии"
    assert (await subs.subscribe(1, "учения армии")).outcome is Outcome.EXISTS
    for i in range(MAX_PER_CHAT - 2):
        assert (await subs.subscribe(1, f"слово{i}")).outcome is Outcome.ADDED
    assert (await subs.subscribe(1, "ещё")).outcome is Outcome.TOO_MANY
    assert len(await subs.list(1)) == MAX_PER_CHAT
    assert await subs.list(2) == []


async def test_remove_and_unsubscribe_all_cancel_pending(
    pub: PublishingService, tmp_path: Path, conn: aiosqlite.Connection
) -> None:
    subs = pub.subscriptions
    await subs.subscribe(5)
    await subs.subscribe(5, "рубль")
    await subs.subscribe(6)
    first = (await subs.list(5))[1]
    assert not await subs.remove(6, first.id)  # someone else's id does nothing
    assert await subs.remove(5, first.id)
    assert not await subs.remove(5, first.id)
    write_seed(tmp_path / "seeds", "b.txt", "Курс рубля", ["Рубль укрепился."])
    await pub.tick()
    assert await subs.unsubscribe_all(5) == 1
    assert await subs.unsubscribe_all(5) == 0
    rows = {d.chat_id: d.status for d in await outbox.all_deliveries(conn)}
    assert rows == {"5": "cancelled", "6": "queued"}
    assert await subs.counts() == (1, 1)
