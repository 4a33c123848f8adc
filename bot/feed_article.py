"""Pure: a feed entry plus what its page yielded → the ParsedArticle to store, and its digest.

The page wins when it gave real text; otherwise the entry's own content, then its summary. Text
that came from the summary, or is shorter than a real article, is a teaser: stored, searchable,
and shown with the link to the site.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.extract import MIN_PAGE_TEXT, ExtractedPage, clean, html_paragraphs
from bot.models import ParsedArticle
from bot.sources.feeds import FeedEntry

MAX_TITLE_LEN = 500


def _fallback(entry: FeedEntry) -> tuple[list[str], bool]:
    """The entry's own paragraphs, and whether they are only its summary."""
    content = html_paragraphs(entry.content_html)
    return (content, False) if content else (html_paragraphs(entry.summary_html), True)


def page_usable(entry: FeedEntry, page: ExtractedPage | None) -> bool:
    """True when the page gave an article's worth of text, or at least twice the entry's own
    (a short brief; a paywall's "subscribe to read" line is not)."""
    if page is None:
        return False
    fallback_len = sum(map(len, _fallback(entry)[0]))
    return page.text_length >= MIN_PAGE_TEXT or page.text_length >= 2 * fallback_len


def feed_article(
    entry: FeedEntry, page: ExtractedPage | None, *, now: datetime, tz: ZoneInfo
) -> ParsedArticle | None:
    """The article for ``entry``; None when neither the feed nor the page gave a title."""
    fallback, from_summary = _fallback(entry)
    use_page = page_usable(entry, page)
    title = " ".join(html_paragraphs(entry.title)) if "<" in entry.title else clean(entry.title)
    title = title or (page.title if page is not None else "")
    if not title:
        return None
    if len(title) > MAX_TITLE_LEN:
        title = title[: MAX_TITLE_LEN - 1].rstrip() + "…"
    published = entry.published_at or (page.published_at if page is not None else None)
    if page is not None and use_page:
        lead, body, teaser = page.lead, page.body, False
    else:
        paragraphs = [p for p in fallback if p.casefold() != title.casefold()]
        lead = paragraphs[0] if paragraphs else ""
        body = tuple(paragraphs[1:])
        teaser = from_summary or sum(map(len, paragraphs)) < MIN_PAGE_TEXT
    return ParsedArticle(
        title=title,
        published_at=(published or now).astimezone(tz),
        lead=lead,
        body=tuple(body),
        credit=page.credit if page is not None else None,
        date_from_mtime=published is None,
        url=entry.link,
        image_url=(page.image_url if page is not None else None) or entry.image_url,
        teaser=teaser,
    )


def digest(parsed: ParsedArticle) -> str:
    """What readers would see of the article, hashed: a different digest is a correction."""
    parts = (
        parsed.title,
        parsed.lead,
        "\n".join(parsed.body),
        parsed.credit or "",
        parsed.url or "",
        parsed.image_url or "",
        "teaser" if parsed.teaser else "",
        str(int(parsed.published_at.timestamp())),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
