"""A polite HTTP client for feeds and article pages: conditional GET, hard limits, retries.

Every rule a publisher's server may expect from a well-behaved reader lives here: a User-Agent that
names the bot, ``If-None-Match``/``If-Modified-Since``, at most ``per_host`` requests at a time to
one host, ``Retry-After`` on 429/503 (for every later request to that host too), timeouts, a body
limit enforced while streaming, redirects counted and checked hop by hop (http/https only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version

import aiohttp
from yarl import URL

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


def _user_agent() -> str:
    try:
        ver = version("newsbot")
    except PackageNotFoundError:  # running from a plain checkout
        ver = "0"
    return f"newsbot/{ver} (Telegram news bot; feed reader)"


USER_AGENT = _user_agent()


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Timeouts, sizes and retry policy; tests pass smaller numbers."""

    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    """Seconds for one request (one redirect hop), from sending to the last body byte."""
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 2
    attempts: int = 3
    """Tries of one URL per fetch when it fails transiently (network, timeout, 5xx, 429)."""
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    retry_after_cap: float = 120.0
    """A longer Retry-After is obeyed by not asking again before then, not by waiting here."""

    def backoff(self, attempt: int) -> float:
        """Seconds before try ``attempt + 1``: exponential, capped, jittered."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempt - 1))
        return delay * random.uniform(0.8, 1.0)


@dataclass(frozen=True, slots=True)
class Fetched:
    """One response the caller can use: 200 with a body, or 304 (not modified, empty body)."""

    url: str
    """The URL after redirects."""
    status: int
    body: bytes
    content_type: str
    charset: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """Why a URL gave nothing usable; ``transient`` ones are worth trying again later."""

    def __init__(
        self, url: str, reason: str, *, transient: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


class HttpClient:
    """One aiohttp session shared by every feed; ``get`` never raises anything but FetchError."""

    def __init__(
        self,
        *,
        limits: HttpLimits | None = None,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or HttpLimits()
        self.user_agent = user_agent
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._blocked: dict[str, float] = {}

    async def close(self) -> None:
        """Close the session (idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self.user_agent, "Accept-Language": "ru, en;q=0.5"},
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=20, ttl_dns_cache=300),
            )
        return self._session

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        html_only: bool = False,
    ) -> Fetched:
        """GET ``url`` with retries; 304 comes back as ``Fetched.not_modified``."""
        headers = {"Accept": ACCEPT_HTML if html_only else ACCEPT_FEED}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._follow(url, headers, html_only)
            except FetchError as exc:
                if not exc.transient or attempt >= self.limits.attempts:
                    raise
                delay = exc.retry_after if exc.retry_after is not None else None
                delay = self.limits.backoff(attempt) if delay is None else delay
                if delay > self.limits.retry_after_cap:
                    raise
                log.info("%s; try %d in %.1f s", exc, attempt + 1, delay)
                await self._sleep(delay)

    async def _follow(self, url: str, headers: dict[str, str], html_only: bool) -> Fetched:
        """One try: up to ``max_redirects`` hops, each checked before it is requested."""
        seen = {url}
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            target = _checked(current, url)
            result = await self._request(target, headers, html_only)
            if isinstance(result, Fetched):
                return result
            current = str(target.join(URL(result)))
            if current in seen:
                raise FetchError(url, f"redirect loop at {current}")
            seen.add(current)
        raise FetchError(url, f"more than {self.limits.max_redirects} redirects")

    async def _request(
        self, target: URL, headers: dict[str, str], html_only: bool
    ) -> Fetched | str:
        """One hop: the Fetched response, or the Location of a redirect."""
        host = f"{target.host}:{target.port}"
        await self._wait_for(host, str(target))
        slot = self._slots.setdefault(host, asyncio.Semaphore(self.limits.per_host))
        timeout = aiohttp.ClientTimeout(
            total=self.limits.total_timeout, connect=self.limits.connect_timeout
        )
        url = str(target)
        async with slot:
            try:
                async with (
                    asyncio.timeout(self.limits.total_timeout),
                    self._client().get(
                        target, headers=headers, allow_redirects=False, timeout=timeout
                    ) as resp,
                ):
                    return await self._response(resp, url, host, html_only)
            except TimeoutError:
                raise FetchError(
                    url, f"timed out after {self.limits.total_timeout:g} s", transient=True
                ) from None
            except (aiohttp.ClientError, OSError) as exc:
                raise FetchError(
                    url, f"network error: {type(exc).__name__}: {exc}", transient=True
                ) from None

    async def _response(
        self, resp: aiohttp.ClientResponse, url: str, host: str, html_only: bool
    ) -> Fetched | str:
        status = resp.status
        if status in REDIRECTS:
            location = resp.headers.get("Location")
            if not location:
                raise FetchError(url, f"HTTP {status} without a Location")
            return location
        if status == 304:
            return self._fetched(resp, url, b"")
        if status in (429, 503):
            wait = retry_after_seconds(resp.headers.get("Retry-After"))
            if wait is not None:
                self._blocked[host] = max(self._blocked.get(host, 0.0), time.monotonic() + wait)
            raise FetchError(url, f"HTTP {status}", transient=True, retry_after=wait)
        if status >= 500:
            raise FetchError(url, f"HTTP {status}", transient=True)
        if not 200 <= status < 300 or status == 204:
            raise FetchError(url, f"HTTP {status}")
        if html_only and resp.content_type not in HTML_TYPES:
            raise FetchError(url, f"not an HTML page: {resp.content_type}")
        limit = self.limits.max_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise FetchError(url, f"body of {resp.content_length} bytes is over {limit}")
        body = bytearray()
        async for chunk in resp.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise FetchError(url, f"body is over {limit} bytes; stopped reading")
        return self._fetched(resp, url, bytes(body))

    @staticmethod
    def _fetched(resp: aiohttp.ClientResponse, url: str, body: bytes) -> Fetched:
        return Fetched(
            url=url,
            status=resp.status,
            body=body,
            content_type=resp.content_type,
            charset=resp.charset,
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
        )

    async def _wait_for(self, host: str, url: str) -> None:
        """Obey a Retry-After this host sent earlier: wait a short one, refuse a long one."""
        until = self._blocked.get(host)
        if until is None:
            return
        left = until - time.monotonic()
        if left <= 0:
            with contextlib.suppress(KeyError):
                del self._blocked[host]
            return
        if left > self.limits.retry_after_cap:
            raise FetchError(
                url, f"server asked to wait {left:.0f} s more", transient=True, retry_after=left
            )
        await self._sleep(left)


def _checked(url: str, origin: str) -> URL:
    """``url`` parsed, or FetchError when it is not an absolute http(s) URL."""
    try:
        target = URL(url)
    except (TypeError, ValueError):
        raise FetchError(origin, f"not a URL: {url!r}") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(origin, f"only http and https URLs are fetched, not {url!r}")
    return target
