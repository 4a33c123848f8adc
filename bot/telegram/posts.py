"""Pure: the channel post and the subscriber alert for one article (HTML + optional URL button).

The channel gets the whole article when it fits one message; otherwise the title, date, credit,
lead and a «Читать полностью» button that deep-links to the article in the bot. Promo lines and
page junk never appear (the parser keeps them out of title, lead and body). A withdrawn article's
post is edited to ``withdrawn_notice``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.models import Article
from bot.telegram.formatting import (
    MAX_MESSAGE_LEN,
    article_messages,
    clip,
    deep_link,
    meta_line,
    utf16_len,
)
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)

CHANNEL_LANG: Lang = "ru"
"""Channel posts and subscriber alerts speak the publisher's language."""
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


def channel_post(article: Article, tz: ZoneInfo, bot_username: str | None) -> Post:
    """The whole article when it fits one message, else a card with a deep-link button."""
    messages = article_messages(article, tz, CHANNEL_LANG)
    if len(messages) == 1:
        return Post(messages[0])
    return Post(_card(article, tz, MAX_MESSAGE_LEN), _button(bot_username, article.id))


def subscriber_alert(article: Article, tz: ZoneInfo, bot_username: str | None) -> Post:
    """A compact card (title, date, credit, start of the lead) with a «Читать полностью» button."""
    return Post(_card(article, tz, ALERT_LEAD_BUDGET), _button(bot_username, article.id))


def withdrawn_notice() -> Post:
    """What a withdrawn article's post becomes: a short notice, no article text, no button."""
    return Post(t(CHANNEL_LANG, "withdrawn_notice"))


def digest(post: Post) -> str:
    """A short hash of what a post shows (text and buttons): equal means an edit changes
    nothing, so none is sent."""
    markup = post.markup.model_dump_json(exclude_none=True) if post.markup else ""
    return hashlib.sha256(f"{post.text}\x00{markup}".encode()).hexdigest()[:16]
