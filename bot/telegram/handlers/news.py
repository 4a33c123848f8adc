"""Reading: /latest, /search, /article and their buttons (open article, ◀ ▶ paging)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.telegram import formatting as fmt
from bot.telegram.callbacks import LatestPage, OpenArticle, QueryCache, SearchPage, resolve_query
from bot.telegram.texts import Lang, t
from bot.telegram.views import View, Views

log = logging.getLogger(__name__)

DEFAULT_LATEST = 5
MAX_LATEST = 20
MAX_PAGE = 10_000
NOT_MODIFIED = "message is not modified"
MAX_ID = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """An article id from user text (``7``, ``#7``), or None when it is not a sane number."""
    m = re.fullmatch(r"#?(\d{1,19})", (text or "").strip(), re.ASCII)
    return int(m.group(1)) if m and 0 < int(m.group(1)) <= MAX_ID else None


async def send_article(
    bot: Bot, chat_id: int, article_id: int | None, views: Views, lang: Lang
) -> None:
    """Send the whole article as one or more messages, or say that there is no such article."""
    for part in await views.article(article_id, lang):
        await bot.send_message(chat_id, part)


async def _sent(request: Awaitable[object]) -> object:
    """Await an aiogram method call (gather() needs coroutines; method objects aren't hashable)."""
    return await request


async def edit_view(query: CallbackQuery, view: View) -> None:
    """Replace the list message with another page, answering the press at the same time.

    Both requests go out together: the spinner stops as the page changes (one round trip, not
    two), and it stops even if the edit fails. An unchanged page is not an error.
    """
    text, markup = view
    if not isinstance(query.message, Message):
        await query.answer()
        return
    outcomes = await asyncio.gather(
        _sent(query.message.edit_text(text, reply_markup=markup)),
        _sent(query.answer()),
        return_exceptions=True,
    )
    for outcome in outcomes:
        unchanged = isinstance(outcome, TelegramBadRequest) and NOT_MODIFIED in outcome.message
        if isinstance(outcome, BaseException) and not unchanged:
            raise outcome


async def cmd_latest(message: Message, command: CommandObject, views: Views, lang: Lang) -> None:
    n = DEFAULT_LATEST
    if command.args and command.args.strip():
        parsed = parse_id(command.args)
        if parsed is None:
            await message.answer(t(lang, "latest_usage", max=MAX_LATEST))
            return
        n = min(parsed, MAX_LATEST)
    text, markup = await views.latest(1, n, lang)
    await message.answer(text, reply_markup=markup)


async def cb_latest(
    query: CallbackQuery, callback_data: LatestPage, views: Views, lang: Lang
) -> None:
    n = min(max(callback_data.n, 1), MAX_LATEST)
    page = min(max(callback_data.page, 1), MAX_PAGE)
    await edit_view(query, await views.latest(page, n, lang))


async def cmd_search(message: Message, command: CommandObject, views: Views, lang: Lang) -> None:
    query = " ".join((command.args or "").split())
    if not query:
        await message.answer(t(lang, "search_usage"))
        return
    text, markup = await views.search_page(query, 1, lang)
    await message.answer(text, reply_markup=markup)


async def cb_search(
    query: CallbackQuery,
    callback_data: SearchPage,
    views: Views,
    queries: QueryCache,
    lang: Lang,
) -> None:
    text = resolve_query(callback_data, queries)
    if text is None:
        await query.answer(t(lang, "search_expired"), show_alert=True)
        return
    page = min(max(callback_data.page, 1), MAX_PAGE)
    await edit_view(query, await views.search_page(text, page, lang))


async def cmd_article(
    message: Message, command: CommandObject, bot: Bot, views: Views, lang: Lang
) -> None:
    if not (command.args or "").strip():
        await message.answer(t(lang, "article_usage"))
        return
    article_id = parse_id(command.args)
    if article_id is None:
        shown = fmt.clip(command.args or "", 40)
        await message.answer(t(lang, "article_missing", id=shown))
        return
    await send_article(bot, message.chat.id, article_id, views, lang)


async def cb_article(
    query: CallbackQuery, callback_data: OpenArticle, bot: Bot, views: Views, lang: Lang
) -> None:
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    article_id = callback_data.id if callback_data.id <= MAX_ID else None
    await send_article(bot, chat_id, article_id, views, lang)


def make_router() -> Router:
    """/latest, /search, /article and their buttons, in any chat."""
    router = Router(name=__name__)
    router.message.register(cmd_latest, Command("latest"))
    router.message.register(cmd_search, Command("search"))
    router.message.register(cmd_article, Command("article"))
    router.callback_query.register(cb_latest, LatestPage.filter())
    router.callback_query.register(cb_search, SearchPage.filter())
    router.callback_query.register(cb_article, OpenArticle.filter(F.id > 0))
    return router
