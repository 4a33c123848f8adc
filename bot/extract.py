"""Pure extractor: an article page's HTML → title, date, main image, lead and body paragraphs.

trafilatura finds the main text (it measured better than readability-lxml on the pages in
tests/feeds/: see bench/extraction.py) and drops menus, sidebars, related-link blocks, comments
and footers. What it leaves to us: the main image when the page has no og:image (the first figure
of the article), the photo credit from that figure's caption, and a last pass over the paragraphs
for the subscription prompts and share rows news sites put inside the article. trafilatura and
lxml are imported on first use, so a bot without FEEDS never loads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from trafilatura.settings import Document

MIN_PAGE_TEXT = 200
"""Characters of text below which a page is not worth more than the feed's own teaser."""
MAX_CAPTION_CREDIT = 120
BLOCK_TAGS = ("p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr")
TEXT_TAGS = ("p", "head", "quote", "item", "code")
"""Elements of trafilatura's output body that hold one paragraph each."""
DATE_PARAMS = {
    "extensive_search": False,  # no guessing from "© 2025" in the footer
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
_CREDIT = re.compile(
    r"(?:^|[.!?]\s+)(?:фото|photo|источник фото|иллюстрация|кадр)\s*[:©]\s*(?P<who>[^.!?]+)$",
    re.IGNORECASE,
)
_JUNK = re.compile(
    r"^(?:реклама|поделиться|поделитесь\b.*|теги:.*|метки:.*|фото:?)$"
    r"|\bподпи(?:шитесь|сывайтесь)\b.*\b(?:канал|рассылк|telegram|телеграм|дзен|соцсет)"
    r"|^версия для печати\b|\bобсудить на форуме\b|^\W*(?:предыдущая|следующая) новость\b"
    r"|^\d{1,2}[./]\d{1,2}[./]\d{2,4}(?:,?\s+\d{1,2}:\d{2})?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What a page yielded; the feed service merges it with the feed entry."""

    title: str
    published_at: datetime | None
    image_url: str | None
    credit: str | None
    lead: str
    body: tuple[str, ...]

    @property
    def text_length(self) -> int:
        return len(self.lead) + sum(len(p) for p in self.body)


def extract_page(
    html: bytes, *, url: str, charset: str | None = None, tz: ZoneInfo | None = None
) -> ExtractedPage | None:
    """Extract the article from a page fetched from ``url``; None when no text is found.

    ``tz`` dates a page whose published time carries no offset (the publisher's zone).
    """
    from trafilatura import bare_extraction
    from trafilatura.settings import Document

    tree = _load(html, charset)
    if tree is None:
        return None
    image, credit = _figure(tree, url)
    doc = bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        favor_precision=True,
        date_extraction_params=DATE_PARAMS,
    )
    found = isinstance(doc, Document) and doc.body is not None
    title = clean(doc.title or "") if isinstance(doc, Document) else ""
    paragraphs = [
        text
        for el in (doc.body.iter(*TEXT_TAGS) if isinstance(doc, Document) and found else ())
        if (text := clean(" ".join(el.itertext()))) and not _skip(el.tag, text, title)
    ]
    if sum(map(len, paragraphs)) < MIN_PAGE_TEXT:  # e.g. a table layout trafilatura skips
        title, paragraphs = max(
            (title, paragraphs), _readability(tree, title), key=lambda tp: sum(map(len, tp[1]))
        )
    if not paragraphs:
        return None
    # trafilatura drops its metadata with a body it discards (table layouts): ask for it alone
    meta = doc if isinstance(doc, Document) else _metadata(tree, url)
    if meta.image:
        image = urljoin(url, meta.image)
    return ExtractedPage(
        title=title,
        published_at=_date(meta.date, tz),
        image_url=image,
        credit=credit,
        lead=paragraphs[0],
        body=tuple(paragraphs[1:]),
    )


def html_paragraphs(fragment: str) -> list[str]:
    """Plain-text paragraphs of an HTML fragment (a feed entry's summary or content)."""
    if not fragment.strip():
        return []
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return [text] if (text := clean(fragment)) else []
    for el in root.iter("script", "style", "figure", "figcaption"):
        el.drop_tree()
    for el in root.iter(*BLOCK_TAGS, "br"):
        if el.tag != "br":
            el.text = "\n" + (el.text or "")
        el.tail = "\n" + (el.tail or "")
    lines = (clean(line) for line in root.text_content().split("\n"))
    return [line for line in lines if line and not _JUNK.search(line)]


def clean(text: str) -> str:
    """Whitespace runs (nbsp, newlines, tabs) as one space, trimmed; soft hyphens removed."""
    return " ".join(text.replace("\u00ad", "").replace("\u200b", "").split())


def _load(html: bytes, charset: str | None) -> HtmlElement | None:
    """The page's tree: decoded with the header's charset, else as trafilatura detects it."""
    from trafilatura.utils import load_html

    data: bytes | str = html
    if charset:
        try:
            data = html.decode(charset, errors="replace")
        except LookupError:
            data = html
    tree = load_html(data)
    return tree if tree is not None and len(tree) else None


def _metadata(tree: HtmlElement, url: str) -> Document:
    """The page's metadata (og:image, published time) without its body."""
    from trafilatura.metadata import extract_metadata

    return extract_metadata(tree, default_url=url, date_config=DATE_PARAMS)


def _readability(tree: HtmlElement, title: str) -> tuple[str, list[str]]:
    """Title and paragraphs by readability-lxml: the second opinion for what trafilatura
    leaves out (layout tables of older CMSs)."""
    import lxml.html
    from readability import Document

    try:
        doc = Document(lxml.html.tostring(tree, encoding="unicode"))
        summary = doc.summary(html_partial=True)
        title = title or clean(doc.short_title())
    except Exception:  # readability raises its own Unparseable and lxml errors alike
        return title, []
    paragraphs = html_paragraphs(summary)
    return title, [p for p in paragraphs if not _skip("p", p, title) and p != title]


def _figure(tree: HtmlElement, url: str) -> tuple[str | None, str | None]:
    """The article's first figure: its image URL and the photo credit in its caption."""
    scopes = tree.xpath("//article|//*[@itemprop='articleBody']|//main")
    searches = [(".//figure//img[@src]", s) for s in [*scopes, tree]]
    searches += [(".//img[@src]", s) for s in scopes]  # never any image of the whole page
    for path, scope in searches:
        for img in scope.xpath(path):
            src = (img.get("src") or "").strip()
            if not src or src.startswith("data:"):
                continue
            figure = next((a for a in img.iterancestors("figure")), None)
            caption = figure.xpath(".//figcaption") if figure is not None else []
            return urljoin(url, src), _caption_credit(caption[0].text_content() if caption else "")
    return None, None


def _caption_credit(caption: str) -> str | None:
    found = _CREDIT.search(clean(caption))
    if found is None or len(found["who"]) > MAX_CAPTION_CREDIT:
        return None
    return found["who"].strip() or None


def _skip(tag: str, text: str, title: str) -> bool:
    """True for the headline repeated as a heading, and for share/tag/subscribe rows."""
    if tag == "head" and text.casefold() == title.casefold():
        return True
    return len(text) <= 300 and bool(_JUNK.search(text))


def _date(value: str | None, tz: ZoneInfo | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if tz is None:
            return None
        parsed = parsed.replace(tzinfo=tz)
    return parsed
