"""The fake server's callback rules that approval relies on, checked against Telegram's docs:
a private chat's buttons are pressed by its user only, answers are one per query, and editing
a private message without reply_markup removes its inline keyboard."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.test_fake_telegram import running

ADMIN = 77
OTHER = 78


async def test_private_buttons_answers_and_keyboard_removal() -> None:
    async with running() as (server, bot):
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Опубликовать", callback_data="ap:1:p")]]
        )
        msg = await bot.send_message(ADMIN, "preview", reply_markup=markup)
        with pytest.raises(ValueError, match="private chat"):
            server.push_callback(ADMIN, "ap:1:p", user_id=OTHER)
        press = server.press_button(ADMIN, "Опубликовать")
        query_id = press["callback_query"]["id"]
        assert press["callback_query"]["from"]["id"] == ADMIN
        await bot.answer_callback_query(query_id, text="✅ Опубликовано — Анна")
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id, text="again")
        await bot.edit_message_text(
            "✅ decided\n\npreview", chat_id=ADMIN, message_id=msg.message_id
        )
        edited = server.message(ADMIN, msg.message_id)
        assert edited.buttons == [] and edited.text.startswith("✅ decided")
        with pytest.raises(ValueError, match="has a button"):
            server.press_button(ADMIN, "Опубликовать")  # the keyboard is gone
        assert server.invalid_requests == []
