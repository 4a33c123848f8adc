"""The fake Bot API server's link preview options and URL buttons, checked as Telegram does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from tests.fake_telegram import FakeTelegram

USER = 42
IMAGE = "https://cdn.example/photo.jpg"


@pytest.fixture
async def tg() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram() as server:
        bot = server.make_bot()
        try:
            yield server, bot
        finally:
            await bot.session.close()


async def raw_send(server: FakeTelegram, **data: str) -> tuple[int, dict[str, object]]:
    url = f"{server.base_url}/bot123456789:AAFakeTelegramTokenForTests/sendMessage"
    async with aiohttp.ClientSession() as http, http.post(url, data=data) as resp:
        return resp.status, json.loads(await resp.text())


async def test_large_image_above_the_text_is_kept(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    options = LinkPreviewOptions(url=IMAGE, prefer_large_media=True, show_above_text=True)
    sent = await bot.send_message(USER, "Текст", link_preview_options=options)
    shown = {"url": IMAGE, "prefer_large_media": True, "show_above_text": True}
    assert server.sent[-1].extra["link_preview_options"] == shown
    assert sent.link_preview_options is not None
    assert sent.link_preview_options.url == IMAGE


async def test_media_size_is_ignored_without_an_explicit_url(
    tg: tuple[FakeTelegram, Bot],
) -> None:
    server, bot = tg
    options = LinkPreviewOptions(prefer_large_media=True, show_above_text=True)
    await bot.send_message(USER, "Текст https://site.example/a", link_preview_options=options)
    assert server.sent[-1].extra["link_preview_options"] == {"show_above_text": True}


async def test_disabled_preview_is_only_that(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    options = LinkPreviewOptions(is_disabled=True, url=IMAGE, prefer_large_media=True)
    await bot.send_message(USER, "Текст", link_preview_options=options)
    assert server.sent[-1].extra["link_preview_options"] == {"is_disabled": True}


async def test_a_url_that_is_no_link_makes_no_preview(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    options = LinkPreviewOptions(url="javascript:alert(1)", prefer_large_media=True)
    await bot.send_message(USER, "Текст", link_preview_options=options)
    assert "link_preview_options" not in server.sent[-1].extra


@pytest.mark.parametrize(
    ("options", "field", "kind"),
    [
        ({"is_disabled": "yes"}, "is_disabled", "Boolean"),
        ({"url": IMAGE, "prefer_large_media": 1}, "prefer_large_media", "Boolean"),
        ({"show_above_text": "true"}, "show_above_text", "Boolean"),
        ({"url": ["x"]}, "url", "String"),
    ],
)
async def test_field_types_are_checked(
    tg: tuple[FakeTelegram, Bot], options: dict[str, object], field: str, kind: str
) -> None:
    server, _ = tg
    status, body = await raw_send(
        server, chat_id=str(USER), text="x", link_preview_options=json.dumps(options)
    )
    assert status == 400
    assert body["description"] == (
        f'Bad Request: can\'t parse link preview options: Field "{field}" must be of type {kind}'
    )


async def test_legacy_flag_still_disables(tg: tuple[FakeTelegram, Bot]) -> None:
    server, _ = tg
    status, _ = await raw_send(
        server, chat_id=str(USER), text="https://site.example", disable_web_page_preview="true"
    )
    assert status == 200
    assert server.sent[-1].extra["link_preview_options"] == {"is_disabled": True}


async def test_url_buttons_must_be_links(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    good = InlineKeyboardButton(
        text="Читать на сайте", url="https://site.example/a?utm_source=telegram"
    )
    await bot.send_message(USER, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[good]]))
    assert server.sent[-1].buttons == [
        {"text": "Читать на сайте", "url": "https://site.example/a?utm_source=telegram"}
    ]
    for url in ("javascript:alert(1)", "https://", "mailto:x@example.com", "http://a b"):
        bad = InlineKeyboardButton(text="Читать на сайте", url=url)
        with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
            await bot.send_message(
                USER, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[bad]])
            )
