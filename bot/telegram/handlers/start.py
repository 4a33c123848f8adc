"""/start (greeting, or the ``a_<id>`` deep link that opens an article) and /help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.config import Settings
from bot.telegram.formatting import escape
from bot.telegram.handlers.news import parse_id, send_article, user_lang
from bot.telegram.texts import t

if TYPE_CHECKING:
    from bot.services.search import SearchService

router = Router(name=__name__)

DEEP_LINK = r"^a_\d{1,19}$"


async def _username(bot: Bot) -> str:
    me = await bot.me()
    return escape(me.username or "bot")


@router.message(CommandStart(deep_link=True, magic=F.args.regexp(DEEP_LINK)))
async def start_article(
    message: Message, command: CommandObject, bot: Bot, search: SearchService, settings: Settings
) -> None:
    article_id = parse_id((command.args or "")[2:])
    lang = user_lang(message.from_user)
    await send_article(bot, message.chat.id, article_id, search, settings, lang)


@router.message(CommandStart())
async def start(message: Message, bot: Bot) -> None:
    await message.answer(t(user_lang(message.from_user), "start", bot=await _username(bot)))


@router.message(Command("help"))
async def help_(message: Message, bot: Bot) -> None:
    await message.answer(t(user_lang(message.from_user), "help", bot=await _username(bot)))
