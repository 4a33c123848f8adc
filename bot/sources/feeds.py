"""Pure: feed bytes (RSS 2.0, Atom, JSON Feed) → FeedEntry list; link and GUID identity keys.

RSS and Atom go through feedparser (liberal about dialects, strict here about well-formedness: a
feed that is not well-formed XML is reported and skipped for that poll, so a truncated download
never stores half an entry). JSON Feed, which feedparser does not read, is a small typed mapping.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import time
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict, cast
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import orjson

JSON_TYPES = frozenset({"application/feed+json", "application/json"})
TRACKING_PARAMS = frozenset(
    {
        *("fbclid", "gclid", "yclid", "ysclid", "dclid", "gbraid", "wbraid", "msclkid"),
        *("mc_cid", "mc_eid", "_openstat", "igshid", "_ga", "_gl", "utm"),
    }
)
"""Query parameters that only track the click (besides every ``utm_*``): not part of a link."""
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_ENTRIES = 500
"""Entries read from one feed document; a feed is a window of recent items, not an archive."""


class FeedError(Exception):
    """The document is not a feed this bot can read; the message says why."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item as the feed describes it; HTML fields are as the feed sent them."""

    link: str | None
    """Absolute link as the feed gave it (tracking parameters and all: the button uses it)."""
    guid: str | None
    title: str
    published_at: datetime | None
    updated_at: datetime | None
    summary_html: str
    content_html: str
    """The full text, when the feed carries one (content:encoded, Atom content, content_html)."""
    image_url: str | None

    @property
    def fingerprint(self) -> str:
        """Changes when what the entry says changes, not when only its GUID or publication date
        does (a re-published item is the same article, not a reason to fetch its page again)."""
        updated = self.updated_at.isoformat() if self.updated_at else ""
        parts = (self.link, self.title, updated, self.summary_html, self.content_html)
        return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document's title and entries, newest first as most feeds list them."""

    title: str
    entries: tuple[FeedEntry, ...]


class JsonFeedItem(TypedDict, total=False):
    """The JSON Feed 1.1 item fields this bot reads."""

    id: str | int
    url: str
    external_url: str
    title: str
    content_html: str
    content_text: str
    summary: str
    image: str
    banner_image: str
    date_published: str
    date_modified: str


class JsonFeedDocument(TypedDict, total=False):
    """The JSON Feed 1.1 top-level fields this bot reads."""

    version: str
    title: str
    items: list[JsonFeedItem]


def parse_feed(data: bytes, *, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed fetched from ``url``; relative links resolve against it."""
    if content_type in JSON_TYPES or data.lstrip()[:1] == b"{":
        return _json_feed(data, url)
    return _xml_feed(data, url)


def _xml_feed(data: bytes, url: str) -> ParsedFeed:
    import feedparser  # lazily: only a bot with FEEDS pays for the import

    doc = feedparser.parse(data, response_headers={"content-location": url})
    problem = doc.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXParseException):
        where = f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
        raise FeedError(f"malformed XML at {where}: {problem.getMessage()}")
    if not doc.get("version") and not doc.entries:
        raise FeedError("not an RSS, Atom or JSON feed")
    entries = [_xml_entry(e) for e in doc.entries[:MAX_ENTRIES]]
    return ParsedFeed(str(doc.feed.get("title", "")), tuple(e for e in entries if e))


def _xml_entry(e: dict[str, object]) -> FeedEntry | None:
    link = _text(e.get("link")) or None
    guid = _text(e.get("id")) or None
    if link is None and guid is None:
        return None
    updated = dict.get(e, "updated_parsed")  # plain dict.get: no fallback to published_parsed
    content = e.get("content")
    content_html = ""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        content_html = _text(content[0].get("value"))
    return FeedEntry(
        link=link,
        guid=guid,
        title=_text(e.get("title")),
        published_at=_struct_time(e.get("published_parsed")) or _struct_time(updated),
        updated_at=_struct_time(updated),
        summary_html=_text(e.get("summary")),
        content_html=content_html,
        image_url=_xml_image(e),
    )


def _xml_image(e: dict[str, object]) -> str | None:
    """The entry's picture: media:content / media:thumbnail, then an image enclosure."""
    for key in ("media_content", "media_thumbnail"):
        for media in cast(list[dict[str, str]], e.get(key) or []):
            medium, kind = media.get("medium", ""), media.get("type", "")
            if media.get("url") and (medium == "image" or kind.startswith("image/") or not kind):
                return media["url"]
    for link in cast(list[dict[str, str]], e.get("links") or []):
        if link.get("rel") == "enclosure" and link.get("type", "").startswith("image/"):
            return link.get("href") or None
    return None


def _json_feed(data: bytes, url: str) -> ParsedFeed:
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"malformed JSON: {exc}") from None
    if not isinstance(raw, dict) or not str(raw.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("JSON but not a JSON Feed (no https://jsonfeed.org/version/ version)")
    doc = cast(JsonFeedDocument, raw)
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed without an items list")
    entries = [_json_entry(i, url) for i in items[:MAX_ENTRIES] if isinstance(i, dict)]
    return ParsedFeed(_text(doc.get("title")), tuple(e for e in entries if e))


def _json_entry(item: JsonFeedItem, base: str) -> FeedEntry | None:
    link = _text(item.get("url")) or _text(item.get("external_url"))
    guid = str(item["id"]) if isinstance(item.get("id"), str | int) else ""
    if not link and not guid:
        return None
    content = _text(item.get("content_html"))
    if not content and (plain := _text(item.get("content_text"))):
        content = "".join(f"<p>{_escape(p)}</p>" for p in plain.split("\n") if p.strip())
    image = _text(item.get("image")) or _text(item.get("banner_image"))
    return FeedEntry(
        link=urljoin(base, link) if link else None,
        guid=guid or None,
        title=_text(item.get("title")),
        published_at=_iso(item.get("date_published")) or _iso(item.get("date_modified")),
        updated_at=_iso(item.get("date_modified")),
        summary_html=_escape(_text(item.get("summary"))),
        content_html=content,
        image_url=urljoin(base, image) if image else None,
    )


def link_key(url: str) -> str:
    """A link's identity: no scheme, fragment, tracking parameters or trailing slash;
    host in lower case; the remaining parameters sorted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    return f"//{host}{path}" + (f"?{urlencode(query)}" if query else "")


def guid_key(guid: str, feed_url: str) -> str:
    """A GUID's identity: a URL GUID stands for itself; an opaque one is scoped to the feed's
    host (two feeds of one site share their GUIDs, two sites may not)."""
    if guid.startswith(("http://", "https://")):
        return link_key(guid)
    host = (urlsplit(feed_url).hostname or "").lower()
    return f"{host}#{guid.strip()}"


def _struct_time(value: object) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError):
        return None


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
