"""Corrections follow the article, end to end: seed files changed on disk, the real wiring
(build_app, scheduler, deliverer, aiogram Bot) and the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.config import Settings
from bot.store import outbox
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    FAST,
    BotApp,
    channel,
    delivery_settings,
    say,
    start_delivery_bot,
    start_fast_bot,
    wait_until,
    write_seed,
)

READER = 101
LONG = "Длинный абзац о манёврах и учениях. " * 150  # ~5,400 characters: a card, not the article


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return delivery_settings(settings)


@pytest.fixture
async def app(cfg: Settings, fake: FakeTelegram) -> AsyncIterator[BotApp]:
    a = await start_delivery_bot(cfg, fake)
    yield a
    await a.stop()


async def posted(fake: FakeTelegram, cfg: Settings, title: str, text: list[str]) -> int:
    """Write a new seed and wait for its channel post; its message id."""
    mark = fake.mark()
    write_seed(cfg.seeds_dir, "new.txt", title, text)
    [post] = await fake.wait_for_messages(channel(fake), 1, since=mark)
    return post.message_id


def edits_of(fake: FakeTelegram, message_id: int) -> list[str]:
    """Texts of the accepted edits of one channel post, in order."""
    return [
        e.text or ""
        for e in fake.edits
        if e.chat_id == channel(fake) and e.message_id == message_id
    ]


async def test_title_correction_is_one_edit_and_an_admin_note(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    await say(fake, READER, "/subscribe")
    mid = await posted(fake, cfg, "Армия начала манёвры", ["Начались манёвры."])
    [_, alert] = await fake.wait_for_messages(READER, 2)
    write_seed(cfg.seeds_dir, "new.txt", "Армия начала большие манёвры", ["Начались манёвры."])
    await fake.wait_for(lambda: edits_of(fake, mid), timeout=10)
    [note] = await fake.wait_for_messages(ADMIN, 1, timeout=10)
    await fake.wait_for(lambda: fake.message(READER, alert.message_id).edit_date, timeout=10)
    await fake.settle(0.8)
    post = fake.message(channel(fake), mid)
    assert edits_of(fake, mid) == [post.text]
    assert post.html.startswith("<b>Армия начала большие манёвры</b>")
    assert len(fake.sent_messages(channel(fake))) == 1  # edited in place, never posted again
    assert fake.message(READER, alert.message_id).text.startswith("Армия начала большие")
    assert len(fake.sent_messages(READER)) == 2
    [row] = [d for d in await outbox.all_deliveries(app.conn) if d.kind == "channel"][:1]
    assert "Статья исправлена" in note.text and "Армия начала большие манёвры" in note.text
    assert "Изменено: заголовок" in note.text
    assert f"https://t.me/fake_news_bot?start=a_{row.article_id}" in note.text
    [stats] = await say(fake, ADMIN, "/stats")
    assert "Исправления: статей 1 (правок 1) · сообщений изменено 2" in stats.text
    fake.assert_clean()


async def test_a_card_stays_a_card_and_unseen_changes_cost_no_request(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    await say(fake, READER, "/subscribe")
    mid = await posted(fake, cfg, "Большой материал", ["Вводный абзац.", LONG])
    assert fake.message(channel(fake), mid).buttons  # too long for one message: a card
    await fake.wait_for_messages(READER, 2)
    write_seed(cfg.seeds_dir, "new.txt", "Большой материал", ["Новый вводный абзац.", LONG])
    await fake.wait_for(lambda: edits_of(fake, mid), timeout=10)
    await fake.wait_for_messages(ADMIN, 1, timeout=10)
    await fake.settle(0.8)
    post = fake.message(channel(fake), mid)
    assert "Новый вводный абзац." in post.text and post.buttons[0]["text"] == "Читать полностью"
    assert len([e for e in fake.edits if e.chat_id == READER]) == 1  # the alert shows the lead
    # a change deep in the body: neither the card nor the alert shows it, so no request at all
    write_seed(cfg.seeds_dir, "new.txt", "Большой материал", ["Новый вводный абзац.", LONG + "!"])
    await fake.wait_for_messages(ADMIN, 2, timeout=10)

    async def followed() -> bool:
        rows = await outbox.all_deliveries(app.conn)
        return [d.done for d in rows if d.action == "edit"].count("unchanged") == 2

    await wait_until(followed, timeout=5)
    await fake.settle(0.5)
    assert len(fake.edits) == 2 and len(fake.sent_messages(channel(fake))) == 1
    fake.assert_clean()


async def test_quick_corrections_end_with_the_latest_text(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    mid = await posted(fake, cfg, "Версия 0", ["Текст."])
    for i in (1, 2, 3):
        write_seed(cfg.seeds_dir, "new.txt", f"Версия {i}", ["Текст."])
        await asyncio.sleep(0.5)
    await fake.wait_for(
        lambda: fake.message(channel(fake), mid).text.startswith("Версия 3"), timeout=10
    )
    await fake.settle(1.0)
    versions = [int(text.split("\n")[0].split()[-1]) for text in edits_of(fake, mid)]
    assert versions == sorted(versions) and versions[-1] == 3  # never older after newer
    assert 1 <= len(versions) <= 3
    assert len(fake.sent_messages(channel(fake))) == 1
    fake.assert_clean()


async def test_corrections_waiting_for_the_pacer_end_as_one_edit(
    cfg: Settings, fake: FakeTelegram
) -> None:
    app = await start_fast_bot(cfg, fake, replace(FAST, chat_interval=1.0))  # Telegram's pace
    try:
        await fake.wait_for_request("getUpdates")
        mid = await posted(fake, cfg, "Версия 0", ["Текст."])
        for i in (1, 2, 3):  # all while the channel's next message must wait a second
            write_seed(cfg.seeds_dir, "new.txt", f"Версия {i}", ["Текст."])
            await asyncio.sleep(0.15)
        await fake.wait_for(
            lambda: fake.message(channel(fake), mid).text.startswith("Версия 3"), timeout=10
        )
        await asyncio.sleep(1.5)  # time for one more paced edit, if one were still queued
        versions = [int(text.split("\n")[0].split()[-1]) for text in edits_of(fake, mid)]
        assert versions[-1] == 3 and len(versions) <= 2, versions
        fake.assert_clean()
    finally:
        await app.stop()


async def test_a_correction_while_the_channel_is_under_a_429_waits_for_it(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    mid = await posted(fake, cfg, "Первая версия", ["Текст."])
    fake.fail_next("429", method="editMessageText", chat_id="@news", retry_after=2)
    write_seed(cfg.seeds_dir, "new.txt", "Вторая версия", ["Текст."])
    await fake.wait_for(lambda: edits_of(fake, mid), timeout=15)
    [refused] = fake.calls("editMessageText", ok=False)
    [accepted] = fake.calls("editMessageText", ok=True)
    assert refused.status == 429
    assert accepted.time - refused.time >= 2.0  # retry_after obeyed, then the same edit
    assert fake.message(channel(fake), mid).text.startswith("Вторая версия")
    assert fake.retry_violations == []
    fake.assert_clean()


async def test_an_edit_refused_for_good_is_recorded_and_not_retried(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    mid = await posted(fake, cfg, "Статья", ["Текст."])
    fake.delete_as_admin("@news", mid)
    write_seed(cfg.seeds_dir, "new.txt", "Статья исправлена", ["Текст."])
    await fake.wait_for_request("editMessageText", timeout=10)

    async def failed() -> bool:
        return any(d.status == "failed" for d in await outbox.all_deliveries(app.conn))

    await wait_until(failed, timeout=5)
    write_seed(cfg.seeds_dir, "new.txt", "Статья исправлена ещё раз", ["Текст."])
    await fake.wait_for_messages(ADMIN, 2, timeout=10)  # both corrections were noted
    await fake.settle(1.0)
    [edit] = fake.calls("editMessageText")
    assert edit.description == "Bad Request: message to edit not found"
    rows = [d for d in await outbox.all_deliveries(app.conn) if d.kind == "channel"]
    assert [(d.action, d.status) for d in rows] == [("send", "sent"), ("edit", "failed")]
    assert rows[0].shown == "lost" and "message to edit not found" in (rows[1].last_error or "")
    assert len(fake.calls("sendMessage", chat_id=channel(fake))) == 1  # never posted again
    [stats] = await say(fake, ADMIN, "/stats")
    assert "не удалось 1" in stats.text and "message to edit not found" in stats.text
    assert fake.retry_violations == [] and fake.invalid_requests == []
