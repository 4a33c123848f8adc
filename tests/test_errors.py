"""The one error handler, end to end: a handler fails (its database is gone), the reader gets a
short answer in their language, the log names the update, and the bot keeps serving."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.telegram.texts import t
from tests.fake_telegram import FakeTelegram
from tests.helpers import TEST_TOKEN, BotApp, say, seed_article, start_bot, wait_until

CHAT = 42


@pytest.fixture
async def broken(settings: Settings, fake_tg: FakeTelegram) -> AsyncIterator[BotApp]:
    """The bot polling the fake server after its database connection was closed under it."""
    for i in range(1, 7):
        seed_article(settings.seeds_dir, i)
    app = await start_bot(settings, fake_tg)
    [reply] = await say(fake_tg, CHAT, "/latest")  # works while the database is there
    assert reply.text.startswith("Последние статьи · стр. 1 из 2")  # with a ▶ button: l:2:5
    await app.conn.close()
    try:
        yield app
    finally:
        await app.stop()


async def test_a_failing_command_gets_a_short_answer_and_a_logged_update(
    broken: BotApp, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    mark = fake_tg.mark()
    update = fake_tg.push_message(CHAT, text="/latest 3", language_code="ru")
    [reply] = await fake_tg.wait_for_messages(CHAT, 1, since=mark)
    assert reply.text == t("ru", "error") == "Что-то пошло не так. Попробуйте ещё раз чуть позже."
    [record] = [r for r in caplog.records if r.name == "bot.telegram.handlers.errors"]
    assert record.levelno == logging.ERROR
    assert f"update {update['update_id']} (message) from user {CHAT} failed" in record.message
    assert record.exc_info is not None  # the traceback is logged with it
    # aiogram's verdict comes once the update is done: "handled" at INFO, not an exception
    done = f"Update id={update['update_id']} is handled"

    async def finished() -> bool:
        return any(r.getMessage().startswith(done) for r in caplog.records)

    await wait_until(finished)
    aiogram_log = [r for r in caplog.records if r.name == "aiogram.event"]
    assert not [r for r in aiogram_log if r.levelno >= logging.WARNING]  # handled, not re-raised
    assert TEST_TOKEN not in caplog.text and TEST_TOKEN.split(":")[1] not in caplog.text

    [english] = await say(fake_tg, CHAT, "/search партнёр", lang="en")
    assert english.text == "Something went wrong. Please try again a little later."
    [hint] = await say(fake_tg, CHAT, "/help", lang="ru")  # needs no database: still served
    assert hint.text.startswith("Команды\n/latest [n]")
    fake_tg.assert_clean()


async def test_a_failing_button_press_is_answered_with_the_error(
    broken: BotApp, fake_tg: FakeTelegram
) -> None:
    update = fake_tg.push_callback(CHAT, "l:2:5")
    answer = await fake_tg.wait_for_callback_answer(update)
    assert answer["text"] == t("ru", "error")
    fake_tg.assert_clean()
