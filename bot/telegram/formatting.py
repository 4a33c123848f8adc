"""Pure rendering of models into Telegram HTML: escaped, within 4096 UTF-16 units, never empty."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bot.models import MARK_END, MARK_START, Article, ArticleSummary, Page, SearchHit
from bot.snippets import ELLIPSIS
from bot.telegram.texts import Lang, t

MAX_MESSAGE_LEN = 4096
LEAD_LINE = 200  # UTF-16 units of the lead shown per article in /latest
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][»\"”’)])\s+")


def escape(text: str) -> str:
    """Escape text for Telegram HTML: only <, > and & matter outside attributes."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Length as Telegram clients count it: UTF-16 code units (astral characters count 2)."""
    return len(text.encode("utf-16-le")) // 2


def fmt_date(dt: datetime, tz: ZoneInfo) -> str:
    """Publication time in the source's zone, e.g. ``21.05.2025 10:37``."""
    return dt.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def deep_link(bot_username: str, article_id: int) -> str:
    """The t.me link that opens ``article_id`` in the bot (``/start a_<id>``)."""
    return f"https://t.me/{quote(bot_username.lstrip('@'))}?start=a_{article_id}"


UtmParams = tuple[tuple[str, str], ...]


def site_link(url: str, utm: UtmParams, medium: str) -> str:
    """``url`` with the UTM_PARAMS appended (replacing any of the same name the link has) and
    ``utm_medium`` set to ``medium``; unchanged when UTM_PARAMS is empty."""
    if not utm:
        return url
    parts = urlsplit(url)
    ours = [(k, medium if k == "utm_medium" else v) for k, v in utm]
    if all(k != "utm_medium" for k, _ in ours):
        ours.append(("utm_medium", medium))
    names = {k for k, _ in ours}
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(kept + ours)))


def clip(text: str, budget: int, render: Callable[[str], str] = escape) -> str:
    """``render(text)``, cut at a word boundary with "…" so it fits ``budget`` UTF-16 units.

    The one clip helper: list items, cards, channel posts and alerts all cut text this way.
    """
    text = " ".join(text.split())
    if utf16_len(render(text)) <= budget:
        return render(text)
    lo, hi = 0, len(text)  # largest prefix length whose rendering (plus "…") fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if utf16_len(render(text[:mid] + ELLIPSIS)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    cut = text.rfind(" ", 0, lo + 1)
    if cut > lo * 3 // 4:
        lo = cut
    return render(text[:lo].rstrip() + ELLIPSIS) if lo > 0 else render(ELLIPSIS)


def split_text(text: str, budget: int) -> list[str]:
    """Split plain text into pieces whose escaped length fits ``budget`` (sentence, word, char)."""
    return [p for p in _split(text.strip(), budget, 0) if p.strip()]


def _split(text: str, budget: int, level: int) -> list[str]:
    if utf16_len(escape(text)) <= budget:
        return [text]
    if level == 2:
        pieces: list[str] = []
        cur, used = "", 0
        for ch in text:
            size = utf16_len(escape(ch))
            if used + size > budget and cur:
                pieces.append(cur)
                cur, used = "", 0
            cur, used = cur + ch, used + size
        return [*pieces, cur] if cur else pieces
    units = _SENTENCE_END.split(text) if level == 0 else text.split()
    out: list[str] = []
    cur, used = "", 0
    for unit in units:
        size = utf16_len(escape(unit))
        if size > budget:
            if cur:
                out.append(cur)
            out.extend(_split(unit, budget, level + 1))
            cur, used = "", 0
        elif cur and used + 1 + size > budget:
            out.append(cur)
            cur, used = unit, size
        else:
            cur, used = (f"{cur} {unit}", used + 1 + size) if cur else (unit, size)
    return [*out, cur] if cur else out


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph: plain ``text`` rendered escaped inside ``tag``, preceded by ``sep``."""

    text: str
    tag: str = ""
    sep: str = "\n\n"


def pack(blocks: Sequence[Block], limit: int = MAX_MESSAGE_LEN) -> list[str]:
    """Join blocks into as few messages as fit ``limit``, splitting only oversized paragraphs."""
    parts: list[tuple[str, str]] = []  # (separator, html)
    for block in blocks:
        if not block.text.strip():
            continue
        open_, close = (f"<{block.tag}>", f"</{block.tag}>") if block.tag else ("", "")
        budget = limit - utf16_len(open_ + close)
        for i, piece in enumerate(split_text(block.text, budget)):
            parts.append((block.sep if i == 0 else " ", open_ + escape(piece) + close))
    messages: list[str] = []
    cur, used = "", 0
    for sep, part in parts:
        size = utf16_len(part)
        if cur and used + utf16_len(sep) + size <= limit:
            cur, used = cur + sep + part, used + utf16_len(sep) + size
        else:
            if cur:
                messages.append(cur)
            cur, used = part, size
    if cur:
        messages.append(cur)
    return messages


def meta_line(article: Article, tz: ZoneInfo, lang: Lang) -> str:
    """Plain ``21.05.2025 10:37 · Фото: credit`` (the date, and the photo credit if any)."""
    meta = fmt_date(article.published_at, tz)
    return f"{meta} · {t(lang, 'photo')}: {article.credit}" if article.credit else meta


def article_messages(article: Article, tz: ZoneInfo, lang: Lang = "ru") -> list[str]:
    """The full article (title, date, photo credit, lead, body) as ≤4096-unit HTML messages."""
    blocks = [
        Block(article.title, "b", ""),
        Block(meta_line(article, tz, lang), "i", "\n"),
        Block(article.lead, "i"),
        *(Block(p) for p in article.body),
    ]
    return pack(blocks) or [escape(article.title.strip() or f"#{article.id}")]


def with_teaser_note(
    messages: list[str], article: Article, lang: Lang, utm: UtmParams, medium: str = "bot"
) -> list[str]:
    """``messages`` plus, for a teaser with an address, the note that the full text is on the
    site (with the link), in the last message when it fits there."""
    if not article.teaser or not article.url:
        return messages
    href = html.escape(site_link(article.url, utm, medium), quote=True)
    note = t(lang, "teaser_note", link=f'<a href="{href}">{escape(shorten(article.url, 80))}</a>')
    if messages and utf16_len(messages[-1]) + 2 + utf16_len(note) <= MAX_MESSAGE_LEN:
        return [*messages[:-1], f"{messages[-1]}\n\n{note}"]
    return [*messages, note]


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (a lead's opening, for lists)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def snippet_html(snippet: str) -> str:
    """Search snippet → HTML: text escaped, MARK_START…MARK_END → <b>…</b>, always balanced."""
    out: list[str] = []
    bold = False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", snippet):
        if piece == MARK_START:
            bold = True
        elif piece == MARK_END:
            bold = False
        elif piece:
            out.append(f"<b>{escape(piece)}</b>" if bold else escape(piece))
    return "".join(out)


def shorten(text: str, limit: int) -> str:
    """Plain ``text`` cut to ``limit`` characters with "…" (button labels, admin lines)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def button_label(number: int, title: str, limit: int = 60) -> str:
    """Plain text for an "open article" button: ``3. Title…``."""
    return shorten(f"{number}. {' '.join(title.split())}", limit)


def _page_header(title_html: str, page: Page[object], lang: Lang) -> str:
    if page.pages <= 1:
        return title_html
    return f"{title_html} · {t(lang, 'page', page=page.page, pages=page.pages)}"


def _fit_items(header: str, items: list[Callable[[int], str]]) -> str:
    """Render list items with the largest per-item budget that keeps the message ≤ 4096."""
    budget = (MAX_MESSAGE_LEN - utf16_len(header) - 2) // max(1, len(items)) - 2
    while True:
        text = "\n\n".join([header, *(render(budget) for render in items)])
        if utf16_len(text) <= MAX_MESSAGE_LEN or budget <= 40:  # 20 items at 40 fit easily
            return text
        budget = budget * 3 // 4


def _item(
    n: int,
    title: str,
    when: datetime,
    tz: ZoneInfo,
    tail: Callable[[int], str],
    sep: str,
    reserve: int,
) -> Callable[[int], str]:
    """A list item: ``n. title``, the date, then ``sep`` and ``tail(room)`` when room is left.

    ``reserve`` units are held back from the tail's room (the separator and some slack).
    """

    def render(budget: int) -> str:
        head = clip(f"{n}. {title}", min(300, budget // 2))
        date = fmt_date(when, tz)
        rest = budget - utf16_len(head) - len(date) - reserve
        extra = tail(rest) if rest > 10 else ""
        return f"<b>{head}</b>\n<i>{date}</i>" + (f"{sep}{extra}" if extra else "")

    return render


def latest_text(page: Page[ArticleSummary], tz: ZoneInfo, lang: Lang) -> str:
    """The /latest page: numbered title, date and the lead's first line for each article."""
    if not page.items:
        return t(lang, "no_articles")
    header = _page_header(f"<b>{t(lang, 'latest_title')}</b>", page, lang)
    first = (page.page - 1) * page.per_page + 1

    def lead(a: ArticleSummary) -> Callable[[int], str]:
        return lambda rest: clip(first_line(a.lead), min(rest, LEAD_LINE))

    items = [
        _item(first + i, a.title, a.published_at, tz, lead(a), " — ", 3)
        for i, a in enumerate(page.items)
    ]
    return _fit_items(header, items)


def search_text(page: Page[SearchHit], query: str, tz: ZoneInfo, lang: Lang) -> str:
    """A page of search results: count, query, then title, date and snippet per hit."""
    if not page.items and page.total == 0:
        return t(lang, "search_none", query=clip(query, 200))
    found = t(lang, "search_found", total=page.total, query=clip(query, 200))
    header = _page_header(f"<b>{found}</b>", page, lang)
    if page.searched:  # the best results come only from corrected or completed words
        header += "\n<i>" + t(lang, "search_searched", query=clip(page.searched, 200)) + "</i>"
    first = (page.page - 1) * page.per_page + 1

    def snippet(hit: SearchHit) -> Callable[[int], str]:
        return lambda rest: clip(hit.snippet, rest, snippet_html)

    items = [
        _item(first + i, h.title, h.published_at, tz, snippet(h), "\n", 9)
        for i, h in enumerate(page.items)
    ]
    return _fit_items(header, items)


def article_card(
    article: ArticleSummary, tz: ZoneInfo, bot_username: str | None, lang: Lang
) -> str:
    """The message an inline result posts: title, date, lead and a deep link back to the bot."""
    head = f"<b>{clip(article.title, 500)}</b>\n<i>{fmt_date(article.published_at, tz)}</i>"
    text = f"{head}\n\n{clip(article.lead, 2500)}" if article.lead.strip() else head
    if bot_username:
        href = html.escape(deep_link(bot_username, article.id), quote=True)
        text += f'\n\n<a href="{href}">{t(lang, "read_in_bot")}</a>'
    return text


def inline_description(article: ArticleSummary) -> str:
    """Plain-text description under an inline result's title (the lead's opening)."""
    return " ".join(first_line(article.lead).split())[:200] or f"#{article.id}"


def target_name(chat: str, topic: int | str | None, lang: Lang) -> str:
    """A target as /stats, /resume and the admins' notes name it (escaped)."""
    if topic is None:
        return escape(chat)
    return t(lang, "target_name", chat=escape(chat), topic=escape(str(topic)))
