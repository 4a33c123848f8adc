"""Pure: the channel post and the subscriber alert for one article (HTML + optional URL button).

The channel gets the whole article, rendered by the post template (POST_TEMPLATE, or the shipped
default), when it fits one message; otherwise the title, date, credit, lead and a «Читать
полностью» button that deep-links to the article in the bot. Promo lines and page junk never
appear (the parser keeps them out of title, lead and body).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.models import Article
from bot.telegram.formatting import MAX_MESSAGE_LEN, clip, deep_link, meta_line, utf16_len
from bot.telegram.templates import CHANNEL_LANG, PostRenderer, TemplateProblem, default_renderer
from bot.telegram.texts import t

log = logging.getLogger(__name__)

READ_MORE = t(CHANNEL_LANG, "read_more")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ALERT_LEAD_BUDGET = 1000
"""UTF-16 units of lead in a subscriber alert: a card, not the article."""


@dataclass(frozen=True, slots=True)
class Post:
    """One message to send: HTML text and an optional inline keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def _head(article: Article, tz: ZoneInfo) -> str:
    meta = meta_line(article, tz, CHANNEL_LANG)
    return f"<b>{clip(article.title, 1000)}</b>\n<i>{clip(meta, 500)}</i>"


def _button(bot_username: str | None, article_id: int) -> InlineKeyboardMarkup | None:
    if not bot_username:
        return None
    url = deep_link(bot_username, article_id)
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=READ_MORE, url=url)]])


def _card(article: Article, tz: ZoneInfo, lead_budget: int) -> str:
    head = _head(article, tz)
    if not article.lead.strip():
        return head
    budget = min(lead_budget, MAX_MESSAGE_LEN - utf16_len(head) - len("\n\n<i></i>"))
    return f"{head}\n\n<i>{clip(article.lead, budget)}</i>"


def channel_post(
    article: Article,
    tz: ZoneInfo,
    bot_username: str | None,
    renderer: PostRenderer | None = None,
) -> Post:
    """The template's rendering when it fits one message, else a card with a deep-link button.

    A template that fails on this article (checked at start, so rare) is logged and the card
    goes out instead: the post is never lost to a template.
    """
    try:
        text = (renderer or default_renderer()).whole_post(article, tz, bot_username)
    except TemplateProblem as exc:
        log.error("post template failed for article %d, sending the card: %s", article.id, exc)
        text = None
    if text is not None:
        return Post(text)
    return Post(_card(article, tz, MAX_MESSAGE_LEN), _button(bot_username, article.id))


def subscriber_alert(article: Article, tz: ZoneInfo, bot_username: str | None) -> Post:
    """A compact card (title, date, credit, start of the lead) with a «Читать полностью» button."""
    return Post(_card(article, tz, ALERT_LEAD_BUDGET), _button(bot_username, article.id))
