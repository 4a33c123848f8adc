"""A publisher's web site on 127.0.0.1 for the feed tests: feeds and pages the tests write.

It answers as a real server would (ETag/Last-Modified and 304, redirects, slow and huge bodies,
429 with Retry-After, any Content-Type) and records every request with its headers, plus the most
requests it ever had in flight at once.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import orjson
from aiohttp import web

FIXTURES = Path(__file__).with_name("feeds")


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    chunked: bool = False
    """Stream the body without a Content-Length (the client must stop reading by itself)."""


@dataclass(frozen=True)
class Seen:
    """One request the site received."""

    path: str
    headers: dict[str, str]


@dataclass
class Item:
    """One feed item, rendered by ``rss``, ``atom`` or ``json_feed``."""

    title: str
    link: str | None
    guid: str | None = None
    date: datetime | None = None
    summary: str = ""
    content: str = ""
    image: str | None = None


class FeedSite:
    """The site; ``url(path)`` is its address for a path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FeedSite:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", **kw: object) -> Route:
        data = body.encode() if isinstance(body, str) else body
        route = Route(body=data, **kw)  # type: ignore[arg-type]
        self.routes[path] = route
        return route

    def fixture(self, path: str, name: str, **kw: object) -> Route:
        """Serve tests/feeds/<name> at ``path`` with ``{{BASE}}`` replaced by the site's base."""
        data = (FIXTURES / name).read_bytes().replace(b"{{BASE}}", self.base.encode())
        return self.add(path, data, **kw)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs if request.query_string else request.path
        self.requests.append(Seen(request.path, dict(request.headers)))
        route = self.routes.get(path) or self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if route.delay:
                await asyncio.sleep(route.delay)
            return await self._answer(request, route)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, route: Route) -> web.StreamResponse:
        validators = {}
        if route.etag:
            validators["ETag"] = route.etag
        if route.last_modified:
            validators["Last-Modified"] = route.last_modified
        if (route.etag and request.headers.get("If-None-Match") == route.etag) or (
            route.last_modified and request.headers.get("If-Modified-Since") == route.last_modified
        ):
            return web.Response(status=304, headers=validators)
        headers = {"Content-Type": route.content_type, **validators, **route.headers}
        if not route.chunked:
            return web.Response(status=route.status, body=route.body, headers=headers)
        resp = web.StreamResponse(status=route.status, headers=headers)
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(0, len(route.body), 256 * 1024):
            await resp.write(route.body[i : i + 256 * 1024])
        await resp.write_eof()
        return resp


def rss(items: list[Item], title: str = "Вечерний Город") -> str:
    """An RSS 2.0 document (content:encoded for full text, enclosure for the image)."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{html.escape(title)}</title><link>http://site/</link>",
    ]
    for it in items:
        out.append("<item>")
        out.append(f"<title>{html.escape(it.title)}</title>")
        if it.link:
            out.append(f"<link>{html.escape(it.link)}</link>")
        if it.guid:
            out.append(f'<guid isPermaLink="false">{html.escape(it.guid)}</guid>')
        if it.date:
            out.append(f"<pubDate>{format_datetime(it.date)}</pubDate>")
        if it.summary:
            out.append(f"<description>{html.escape(it.summary)}</description>")
        if it.content:
            out.append(f"<content:encoded><![CDATA[{it.content}]]></content:encoded>")
        if it.image:
            out.append(f'<enclosure url="{html.escape(it.image)}" type="image/jpeg" length="0"/>')
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out)


def atom(items: list[Item], title: str = "Вечерний Город") -> str:
    """An Atom 1.0 document."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{html.escape(title)}</title><id>urn:site</id>",
        "<updated>2025-07-01T00:00:00Z</updated>",
    ]
    for it in items:
        out.append("<entry>")
        out.append(f"<title>{html.escape(it.title)}</title>")
        out.append(f"<id>{html.escape(it.guid or it.link or '')}</id>")
        if it.link:
            out.append(f'<link rel="alternate" href="{html.escape(it.link)}"/>')
        if it.date:
            out.append(f"<published>{it.date.isoformat()}</published>")
            out.append(f"<updated>{it.date.isoformat()}</updated>")
        if it.summary:
            out.append(f'<summary type="html">{html.escape(it.summary)}</summary>')
        if it.content:
            out.append(f'<content type="html">{html.escape(it.content)}</content>')
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out)


def json_feed(items: list[Item], title: str = "Вечерний Город") -> bytes:
    """A JSON Feed 1.1 document."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "items": [
            {
                k: v
                for k, v in {
                    "id": it.guid or it.link,
                    "url": it.link,
                    "title": it.title,
                    "summary": it.summary or None,
                    "content_html": it.content or None,
                    "image": it.image,
                    "date_published": it.date.isoformat() if it.date else None,
                }.items()
                if v is not None
            }
            for it in items
        ],
    }
    return orjson.dumps(doc)
