"""Catch-all, registered last: a short hint for unknown commands and plain text; rest ignored."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.telegram.formatting import clip
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)

PRIVATE = F.chat.type == ChatType.PRIVATE


async def unknown_command(message: Message, lang: Lang) -> None:
    await message.answer(t(lang, "unknown_command"))


async def plain_text(message: Message, lang: Lang) -> None:
    query = clip(message.text or "", 60)
    await message.answer(t(lang, "plain_text", query=query))


async def ignore(message: Message) -> None:
    """Stickers, photos, group chatter: nothing to say, and nothing to fail on."""


async def stale_button(query: CallbackQuery) -> None:
    """A button from an older version of the bot (or forged data): stop the client's spinner."""
    log.debug("unknown callback data %r", query.data)
    await query.answer()


def make_router() -> Router:
    """Hints in private chats, silence elsewhere, and an answer for every unknown button."""
    router = Router(name=__name__)
    router.message.register(unknown_command, PRIVATE, F.text.startswith("/"))
    router.message.register(plain_text, PRIVATE, F.text)
    router.message.register(ignore)
    router.callback_query.register(stale_button)
    return router
