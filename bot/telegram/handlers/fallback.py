"""Catch-all, registered last: a short hint for unknown commands and plain text; rest ignored."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.telegram.formatting import clip
from bot.telegram.handlers.news import user_lang
from bot.telegram.texts import t

log = logging.getLogger(__name__)
router = Router(name=__name__)


@router.message(F.chat.type == ChatType.PRIVATE, F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(t(user_lang(message.from_user), "unknown_command"))


@router.message(F.chat.type == ChatType.PRIVATE, F.text)
async def plain_text(message: Message) -> None:
    query = clip(message.text or "", 60)
    await message.answer(t(user_lang(message.from_user), "plain_text", query=query))


@router.message()
async def ignore(message: Message) -> None:
    """Stickers, photos, group chatter: nothing to say, and nothing to fail on."""


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    """A button from an older version of the bot (or forged data): stop the client's spinner."""
    log.debug("unknown callback data %r", query.data)
    await query.answer()
