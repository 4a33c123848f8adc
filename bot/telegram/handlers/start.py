"""/start (greeting, or the ``a_<id>`` deep link that opens an article) and /help."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.telegram.formatting import escape
from bot.telegram.handlers.news import parse_id, send_article
from bot.telegram.texts import Lang, t
from bot.telegram.views import Views

DEEP_LINK = r"^a_\d{1,19}$"


async def _username(bot: Bot) -> str:
    me = await bot.me()
    return escape(me.username or "bot")


async def start_article(
    message: Message, command: CommandObject, bot: Bot, views: Views, lang: Lang
) -> None:
    article_id = parse_id((command.args or "")[2:])
    await send_article(bot, message.chat.id, article_id, views, lang)


async def start(message: Message, bot: Bot, lang: Lang) -> None:
    await message.answer(t(lang, "start", bot=await _username(bot)))


async def help_(message: Message, bot: Bot, lang: Lang) -> None:
    await message.answer(t(lang, "help", bot=await _username(bot)))


def make_router() -> Router:
    """/start with an article deep link, plain /start, /help."""
    router = Router(name=__name__)
    router.message.register(
        start_article, CommandStart(deep_link=True, magic=F.args.regexp(DEEP_LINK))
    )
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    return router
