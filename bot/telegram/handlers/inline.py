"""Inline mode: `@bot query` in any chat lists matching articles; empty query: the latest."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
)

from bot.config import Settings
from bot.models import ArticleSummary
from bot.telegram import formatting as fmt
from bot.telegram.texts import Lang, t

if TYPE_CHECKING:
    from bot.services.search import SearchService

log = logging.getLogger(__name__)

INLINE_PAGE = 20  # results per answer (Telegram allows up to 50)
MAX_PAGE = 500
CACHE_TIME = 30


def _page_number(offset: str) -> int:
    """The page an inline offset asks for (offsets are page numbers we handed out)."""
    return (
        int(offset) if offset.isascii() and offset.isdigit() and 0 < int(offset) <= MAX_PAGE else 1
    )


def result_for(
    article: ArticleSummary, settings: Settings, username: str | None, lang: Lang
) -> InlineQueryResultArticle:
    """One inline result whose chosen message is the article card with a deep link, and a
    «Читать на сайте» button (utm_medium=inline) for an article with an address."""
    markup = None
    if article.url and article.url.startswith(("http://", "https://")):
        url = fmt.site_link(article.url, settings.utm_params, "inline")
        button = InlineKeyboardButton(text=t(lang, "read_on_site"), url=url)
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
    return InlineQueryResultArticle(
        id=f"a{article.id}",
        title=" ".join(article.title.split())[:200] or f"#{article.id}",
        description=fmt.inline_description(article),
        input_message_content=InputTextMessageContent(
            message_text=fmt.article_card(article, settings.source_tz, username, lang),
            parse_mode="HTML",
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        reply_markup=markup,
    )


async def _cards(
    search: SearchService, text: str, page_no: int
) -> tuple[list[ArticleSummary], bool]:
    """The page's result cards (one query for all of them) and whether another page follows."""
    if not text:
        latest = await search.latest(page=page_no, per_page=INLINE_PAGE)
        return list(latest.items), latest.has_next
    hits = await search.search(text, page=page_no, per_page=INLINE_PAGE)
    if hits is None:
        return [], False
    return await search.summaries([hit.id for hit in hits.items]), hits.has_next


async def inline_query(
    query: InlineQuery, bot: Bot, search: SearchService, settings: Settings, lang: Lang
) -> None:
    page_no = _page_number(query.offset)
    articles, has_next = await _cards(search, " ".join(query.query.split()), page_no)
    username = (await bot.me()).username
    await query.answer(
        [result_for(a, settings, username, lang) for a in articles],
        cache_time=CACHE_TIME,
        is_personal=True,
        next_offset=str(page_no + 1) if has_next and articles else "",
    )


def make_router() -> Router:
    """Every inline query, in any chat."""
    router = Router(name=__name__)
    router.inline_query.register(inline_query)
    return router
