"""Feed entries → articles: identity, page fetch and extraction, insert or correct, once each.

An entry is the article any of its keys (normalised link, scoped GUID) already names, so a second
feed or a new GUID adds a key, not an article. A page is fetched for a new article, when its feed
entry changed, and again (a few times) when it failed for a passing reason; otherwise never.
Entries of one feed are handled oldest first so article ids follow publication order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.extract import ExtractedPage, extract_page
from bot.feed_article import digest, feed_article
from bot.identity import visible_changes
from bot.models import FailedFile, IngestReport, ParsedArticle
from bot.services.index_upkeep import merge_index
from bot.sources.feeds import FeedEntry, guid_key, link_key
from bot.sources.http import FetchError, HttpClient
from bot.store import articles, corrections
from bot.store import feeds as store
from bot.store.db import transaction

log = logging.getLogger(__name__)

PAGE_RETRIES = 3
"""Later polls that try again a page that failed for a passing reason (timeout, 5xx)."""

Extractor = Callable[..., ExtractedPage | None]


def entry_keys(entry: FeedEntry, feed_url: str) -> list[str]:
    """The identity keys of an entry, link first."""
    keys = []
    if entry.link:
        keys.append("link:" + link_key(entry.link))
    if entry.guid:
        keys.append("guid:" + guid_key(entry.guid, feed_url))
    return keys


@dataclass(frozen=True, slots=True)
class _Page:
    extracted: ExtractedPage | None
    retries: int
    """Retries left for a page that failed for a passing reason (0: done)."""


class FeedItems:
    """Stores what feed entries describe; safe to call for several feeds at once."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        http: HttpClient,
        tz: ZoneInfo,
        *,
        extractor: Extractor = extract_page,
    ) -> None:
        self.conn = conn
        self.http = http
        self.tz = tz
        self.extractor = extractor
        self._busy: set[str] = set()
        self._idle = asyncio.Condition()

    async def apply(
        self, feed_url: str, entries: tuple[FeedEntry, ...], *, announce: int | None
    ) -> IngestReport:
        """Store every entry; ``announce`` (a new feed's backlog): only that many of the newest
        new articles are posted, the rest are stored as already announced (searchable)."""
        report = IngestReport()
        order = sorted(
            range(len(entries)),
            key=lambda i: (entries[i].published_at or datetime.min.replace(tzinfo=UTC), -i),
        )
        quiet = set(order[: max(0, len(order) - announce)] if announce is not None else [])
        for i in order:
            entry = entries[i]
            try:
                await self._entry(feed_url, entry, report, quiet=i in quiet)
            except Exception as exc:  # one bad entry never stops the others
                log.exception("feed %s: entry %s failed", feed_url, entry.link or entry.guid)
                report.failed.append(FailedFile(entry.link or entry.guid or "?", repr(exc)))
        await merge_index(self.conn, report)
        return report

    async def _entry(
        self, feed_url: str, entry: FeedEntry, report: IngestReport, *, quiet: bool
    ) -> None:
        keys = entry_keys(entry, feed_url)
        if not keys:
            report.failed.append(FailedFile(entry.title or "?", "entry has no link and no GUID"))
            return
        async with self._claim(keys):
            article_id = await store.article_for_keys(self.conn, keys)
            retries: int | None = None
            if article_id is not None:
                seen = await store.seen_entry(self.conn, feed_url, article_id)
                if seen is None or (
                    seen.fingerprint == entry.fingerprint and seen.page_retries == 0
                ):
                    await self._known(feed_url, article_id, entry, keys, seen is None)
                    report.unchanged += 1
                    return
                retries = seen.page_retries - 1 if seen.fingerprint == entry.fingerprint else None
            page = await self._page(entry, retries)
            parsed = await asyncio.to_thread(
                feed_article, entry, page.extracted, now=datetime.now(UTC), tz=self.tz
            )
            if parsed is None:
                report.failed.append(FailedFile(entry.link or "?", "no title in feed or page"))
                return
            await self._store(feed_url, entry, keys, parsed, page, report, quiet=quiet)

    async def _known(
        self, feed_url: str, article_id: int, entry: FeedEntry, keys: list[str], first: bool
    ) -> None:
        """An article already stored: this feed lists it too, or lists it unchanged."""
        async with transaction(self.conn):
            await store.add_keys(self.conn, article_id, keys)
            if first:
                await store.put_entry(
                    self.conn, feed_url, article_id, fingerprint=entry.fingerprint,
                    page_retries=0, now=time.time(),
                )  # fmt: skip

    async def _page(self, entry: FeedEntry, retries: int | None) -> _Page:
        """Fetch and extract the entry's page; ``retries`` left from earlier tries (None: new)."""
        if not entry.link:
            return _Page(None, 0)
        try:
            fetched = await self.http.get(entry.link, html_only=True)
        except FetchError as exc:
            left = (PAGE_RETRIES if retries is None else retries) if exc.transient else 0
            log.info("page %s not used (%s); the feed's text stands in", entry.link, exc.reason)
            return _Page(None, max(0, left))
        try:
            extracted = await asyncio.to_thread(
                self.extractor, fetched.body, url=fetched.url, charset=fetched.charset, tz=self.tz
            )
        except Exception:
            log.exception("extracting %s failed; the feed's text stands in", entry.link)
            extracted = None
        return _Page(extracted, 0)

    async def _store(
        self,
        feed_url: str,
        entry: FeedEntry,
        keys: list[str],
        parsed: ParsedArticle,
        page: _Page,
        report: IngestReport,
        *,
        quiet: bool,
    ) -> None:
        now = time.time()
        fts = await asyncio.to_thread(articles.fts_values, parsed)
        async with transaction(self.conn):
            article_id = await store.article_for_keys(self.conn, keys)
            if article_id is None:
                text = "\n".join((parsed.title, parsed.lead, *parsed.body)).encode()
                article_id = await articles.save_article(
                    self.conn, "feed:" + keys[0].split(":", 1)[1], parsed, size=len(text),
                    mtime_ns=0, digest=digest(parsed), now=now, fts=fts, origin="feed",
                    announced=quiet,
                )  # fmt: skip
                report.added += 1
                report.added_ids.append(article_id)
            else:
                await self._correct(article_id, parsed, page, fts, report, now)
            await store.add_keys(self.conn, article_id, keys)
            await store.put_entry(
                self.conn, feed_url, article_id, fingerprint=entry.fingerprint,
                page_retries=page.retries, now=now,
            )  # fmt: skip

    async def _correct(
        self,
        article_id: int,
        parsed: ParsedArticle,
        page: _Page,
        fts: dict[str, str],
        report: IngestReport,
        now: float,
    ) -> None:
        """Update a stored article when what readers see changed; a full text never becomes
        a teaser, nor changes while its page fails for a passing reason (it is tried again)."""
        old = await articles.get_article(self.conn, article_id)
        if old is None:  # withdrawn by hand (there is no withdrawal from a feed): leave it
            report.unchanged += 1
            return
        if not old.teaser and (page.retries > 0 or parsed.teaser):
            report.unchanged += 1
            return
        if parsed.date_from_mtime:  # no date anywhere: keep the first-seen time
            parsed = replace(parsed, published_at=old.published_at.astimezone(self.tz))
        new_digest = digest(parsed)
        stored, _teaser = await store.stored_digest(self.conn, article_id)
        if new_digest == stored:
            report.unchanged += 1
            return
        changes = visible_changes(old, parsed)  # the image, link or teaser flag alone: none
        text = "\n".join((parsed.title, parsed.lead, *parsed.body)).encode()
        await articles.save_article(
            self.conn, old.source, parsed, article_id=article_id, size=len(text), mtime_ns=0,
            digest=new_digest, now=now, fts=fts, bump=bool(changes),
        )  # fmt: skip
        report.updated += 1
        if changes:  # the channel post and recent alerts are edited (services/followups.py)
            await corrections.add_if_announced(self.conn, article_id, fields=changes, now=now)
        log.info("article %d corrected from its feed entry/page", article_id)

    @contextlib.asynccontextmanager
    async def _claim(self, keys: list[str]) -> AsyncIterator[None]:
        """One entry per identity at a time: a second feed waits, then finds the article."""
        async with self._idle:
            await self._idle.wait_for(lambda: self._busy.isdisjoint(keys))
            self._busy.update(keys)
        try:
            yield
        finally:
            async with self._idle:
                self._busy.difference_update(keys)
                self._idle.notify_all()
