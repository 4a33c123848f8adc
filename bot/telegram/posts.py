"""Pure: the channel post and the subscriber alert for one article (HTML, buttons, preview).

The channel gets the whole article, rendered by the post template (POST_TEMPLATE, or the shipped
default), when it fits one message; otherwise the title, date, credit, lead and a «Читать
полностью» button that deep-links to the article in the bot. An article with
an original address also gets «Читать на сайте» (the link as its source gave it, plus UTM_PARAMS
with ``utm_medium`` channel or alert); one with a main image shows it large above the channel
post's text as the link preview, which keeps the 4096-character text budget (a photo caption
has 1024). Without an image previews stay off. Promo lines and page junk never appear.
A withdrawn article's post is edited to ``withdrawn_notice``.
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
    UtmParams,
    clip,
    deep_link,
    meta_line,
    site_link,
    utf16_len,
)
from bot.telegram.templates import CHANNEL_LANG, PostRenderer, TemplateProblem, default_renderer
from bot.telegram.texts import t

log = logging.getLogger(__name__)

READ_MORE = t(CHANNEL_LANG, "read_more")
READ_ON_SITE = t(CHANNEL_LANG, "read_on_site")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ALERT_LEAD_BUDGET = 1000
"""UTF-16 units of lead in a subscriber alert: a card, not the article."""


@dataclass(frozen=True, slots=True)
class Post:
    """One message to send: HTML text and an optional inline keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    preview: LinkPreviewOptions = NO_PREVIEW


def _head(article: Article, tz: ZoneInfo) -> str:
    meta = meta_line(article, tz, CHANNEL_LANG)
    return f"<b>{clip(article.title, 1000)}</b>\n<i>{clip(meta, 500)}</i>"


def _buttons(
    article: Article, bot_username: str | None, *, deep: bool, utm: UtmParams, medium: str
) -> InlineKeyboardMarkup | None:
    """«Читать полностью» (deep link into the bot) when ``deep``, «Читать на сайте» when the
    article has an address; one row, None when there is neither."""
    row = []
    if deep and bot_username:
        row.append(InlineKeyboardButton(text=READ_MORE, url=deep_link(bot_username, article.id)))
    if article.url and article.url.startswith(("http://", "https://")):
        row.append(
            InlineKeyboardButton(text=READ_ON_SITE, url=site_link(article.url, utm, medium))
        )
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


def image_preview(article: Article) -> LinkPreviewOptions:
    """The main image large above the text, or no preview at all."""
    image = article.image_url
    if not image or not image.startswith(("http://", "https://")):
        return NO_PREVIEW
    # is_disabled explicitly: aiogram would fill it from the Bot's default (previews off)
    return LinkPreviewOptions(
        is_disabled=False, url=image, prefer_large_media=True, show_above_text=True
    )


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
    *,
    renderer: PostRenderer | None = None,
    utm: UtmParams = (),
) -> Post:
    """The template's rendering when it fits one message, else a card with a deep-link button;
    the site button and the image preview either way.

    A template that fails on this article (checked at start, so rare) is logged and the card
    goes out instead: the post is never lost to a template.
    """
    try:
        text = (renderer or default_renderer()).whole_post(article, tz, bot_username, utm)
    except TemplateProblem as exc:
        log.error("post template failed for article %d, sending the card: %s", article.id, exc)
        text = None
    whole = text is not None
    if text is None:
        text = _card(article, tz, MAX_MESSAGE_LEN)
    markup = _buttons(article, bot_username, deep=not whole, utm=utm, medium="channel")
    return Post(text, markup, image_preview(article))


def subscriber_alert(
    article: Article, tz: ZoneInfo, bot_username: str | None, utm: UtmParams = ()
) -> Post:
    """A compact card (title, date, credit, start of the lead) with a «Читать полностью» button
    and, for an article with an address, «Читать на сайте»."""
    markup = _buttons(article, bot_username, deep=True, utm=utm, medium="alert")
    return Post(_card(article, tz, ALERT_LEAD_BUDGET), markup)


def withdrawn_notice() -> Post:
    """What a withdrawn article's post becomes: a short notice, no article text, no button."""
    return Post(t(CHANNEL_LANG, "withdrawn_notice"))


def digest(post: Post) -> str:
    """A short hash of what a post shows (text, buttons, preview): equal means an edit changes
    nothing, so none is sent."""
    markup = post.markup.model_dump_json(exclude_none=True) if post.markup else ""
    p = post.preview  # its unset fields are aiogram Defaults, which pydantic cannot dump
    preview = f"{p.is_disabled}|{p.url}|{p.prefer_large_media}|{p.show_above_text}"
    return hashlib.sha256(f"{post.text}\x00{markup}\x00{preview}".encode()).hexdigest()[:16]
