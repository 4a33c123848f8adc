"""JsonSession: the bot's Bot API session, against the strict fake server over HTTP."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.telegram.session import JsonSession
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:AAsessionTestToken-abcdefghijklmnopqrst"
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="◀ Назад", callback_data="l:1:5")]]
)


@pytest.fixture
async def tg() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.add_chat(42, "private")
        bot = Bot(
            TOKEN,
            session=JsonSession(api=fake.api_server(), timeout=5),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        try:
            yield fake, bot
        finally:
            await bot.session.close()


async def test_requests_are_json_and_answers_are_messages(tg: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = tg
    text = "<b>Учения</b> «партнёр» & <a href='https://example.com/?a=1&b=2'>ссылка</a>"
    sent = await bot.send_message(42, text, reply_markup=KEYBOARD, disable_notification=True)
    record = fake.requests[-1]
    assert record.method == "sendMessage" and record.content_type == "application/json"
    stored = fake.sent[-1]
    assert stored.text == "Учения «партнёр» & ссылка"
    assert stored.reply_markup == {
        "inline_keyboard": [[{"text": "◀ Назад", "callback_data": "l:1:5"}]]
    }
    assert record.params["disable_notification"] == "true"
    assert record.params["parse_mode"] == "HTML"
    assert isinstance(sent, Message) and sent.message_id == stored.message_id
    assert sent.text == stored.text and sent.chat.id == 42
    # The echo of what we sent is dropped before validation (documented in the module).
    assert sent.entities is None and sent.reply_markup is None
    edited = await bot.edit_message_text(
        "<i>новый текст</i>", chat_id=42, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert isinstance(edited, Message) and edited.text == "новый текст"
    assert fake.requests[-1].content_type == "application/json"
    fake.assert_clean()


async def test_errors_keep_aiogram_exceptions(tg: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = tg
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(42, "<b>не закрыт")
    fake.fail_next("502", method="sendMessage")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(42, "за nginx")
    fake.fail_next("drop", method="sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(42, "обрыв")
    assert await bot.send_message(42, "снова работает")
    fake.fail_next("429", method="sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(42, "после лимита")
    assert caught.value.retry_after == 7


async def test_files_still_go_as_multipart(tg: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = tg
    photo = BufferedInputFile(b"\x89PNG fake bytes", filename="p.png")
    sent = await bot.send_photo(42, photo, caption="<b>фото</b>")
    assert fake.requests[-1].content_type == "multipart/form-data"
    assert sent.photo and sent.caption == "фото"


async def test_response_classes_survive_garbage_collection(tg: tuple[FakeTelegram, Bot]) -> None:
    """pydantic caches Response[...] only weakly; with aiogram's own session a collection drops
    it and the next request rebuilds its schema (~20 ms). JsonSession keeps what it used."""
    _, bot = tg
    await bot.send_message(42, "раз")
    cls = weakref.ref(Response[Message])
    gc.collect()
    assert cls() is not None
    await bot.send_message(42, "два")
    assert Response[Message] is cls()


async def test_network_errors_never_show_the_token(tg: tuple[FakeTelegram, Bot]) -> None:
    """aiohttp's InvalidURL quotes the URL (and so the token); the error the bot logs must not."""
    _, bot = tg
    session = bot.session
    session.api = session.api.from_base("http://127.0.0.1:bad-port")  # type: ignore[misc]
    with pytest.raises(TelegramNetworkError) as caught:
        await bot.send_message(42, "не дойдёт")
    shown = f"{caught.value} {caught.value!r} {caught.value.__cause__!r}"
    assert TOKEN not in shown and "InvalidUrlClientError" in shown and "/bot<token>/" in shown
