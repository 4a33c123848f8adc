"""Poll the publisher's feeds: one task per feed, every FEED_INTERVAL seconds, never dying.

A poll asks with the stored validators (304: nothing to do), parses the document, hands the entries
to FeedItems, and only then stores the new validators, so an interrupted poll is done again in
full. A failure is recorded with its reason and the time the failing run began; admins hear once
when a feed has failed for an hour, and once when it reads again (``FeedNotes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiosqlite

from bot.models import IngestReport
from bot.services.feed_items import FeedItems
from bot.sources.feeds import FeedError, parse_feed
from bot.sources.http import FetchError, HttpClient
from bot.store import feeds as store
from bot.store.db import write_lock
from bot.store.feeds import FeedState

log = logging.getLogger(__name__)

FAILING_NOTE_AFTER = 3600.0
"""Seconds of failing polls after which the admins are told (once per failing run)."""


class FeedNotes(Protocol):
    """Tells the admins about a feed's health (the telegram layer queues it in the outbox)."""

    async def feed_failing(self, url: str, since: float, error: str) -> None: ...

    async def feed_recovered(self, url: str, since: float) -> None: ...


class FeedService:
    """Reads every configured feed into the store; ``on_added`` runs after a poll added articles
    (the publishing service queues them)."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        http: HttpClient,
        items: FeedItems,
        feeds: tuple[str, ...],
        *,
        interval: float,
        backlog: int,
        notes: FeedNotes | None = None,
        on_added: Callable[[], Awaitable[object]] | None = None,
        failing_note_after: float = FAILING_NOTE_AFTER,
    ) -> None:
        self.conn = conn
        self.http = http
        self.items = items
        self.feeds = feeds
        self.interval = interval
        self.backlog = backlog
        self.notes = notes
        self.on_added = on_added
        self.failing_note_after = failing_note_after
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    async def poll(self, url: str) -> IngestReport | None:
        """Read one feed once; returns what it stored (None: not read). Never raises."""
        try:
            report = await self._poll(url)
        except Exception as exc:
            log.exception("feed %s: poll failed unexpectedly", url)
            await self._failed(url, f"internal error: {exc!r}")
            return None
        if report is not None and report.added and self.on_added is not None:
            try:
                await self.on_added()
            except Exception:
                log.exception("feed %s: queueing the new articles failed", url)
        return report

    async def poll_all(self) -> list[IngestReport | None]:
        """Read every feed once, at the same time (one slow feed delays no other)."""
        return list(await asyncio.gather(*(self.poll(url) for url in self.feeds)))

    async def _poll(self, url: str) -> IngestReport | None:
        state = await store.feed_state(self.conn, url)
        try:
            fetched = await self.http.get(url, etag=state.etag, last_modified=state.last_modified)
        except FetchError as exc:
            await self._failed(url, exc.reason)
            return None
        if fetched.not_modified:
            await self._read(url, state, etag=None, last_modified=None, items=None)
            return IngestReport()
        try:
            parsed = await asyncio.to_thread(
                parse_feed, fetched.body, url=fetched.url, content_type=fetched.content_type
            )
        except FeedError as exc:
            await self._failed(url, str(exc))
            return None
        announce = self.backlog if state.polls == 0 else None
        report = await self.items.apply(url, parsed.entries, announce=announce)
        await self._read(
            url, state, etag=fetched.etag, last_modified=fetched.last_modified,
            items=len(parsed.entries),
        )  # fmt: skip
        if report.changed or report.failed or state.polls == 0:
            log.info(
                "feed %s: %d entries; %s%s", url, len(parsed.entries), report.summary(),
                " (first read: backlog)" if announce is not None else "",
            )  # fmt: skip
        return report

    async def _read(
        self,
        url: str,
        before: FeedState,
        *,
        etag: str | None,
        last_modified: str | None,
        items: int | None,
    ) -> None:
        """Record a good poll; tell the admins when it ends a run they were told about."""
        async with write_lock(self.conn):
            await store.record_success(
                self.conn, url, now=time.time(), etag=etag, last_modified=last_modified,
                item_count=items,
            )  # fmt: skip
        if before.failure_noted:
            await self._note(url, recovered=before.failing_since or time.time())

    async def _failed(self, url: str, error: str) -> None:
        """Record a failed poll; tell the admins once the failing run has lasted long enough."""
        now = time.time()
        log.warning("feed %s: %s", url, error)
        async with write_lock(self.conn):
            await store.record_failure(self.conn, url, error, now=now)
        state = await store.feed_state(self.conn, url)
        since = state.failing_since
        if (
            since is not None
            and not state.failure_noted
            and now - since >= self.failing_note_after
        ):
            await self._note(url, failing=(since, error))

    async def _note(
        self,
        url: str,
        *,
        failing: tuple[float, str] | None = None,
        recovered: float | None = None,
    ) -> None:
        """Send one health note and remember it was sent (so it is sent once)."""
        if self.notes is None:
            return
        try:
            if failing is not None:
                await self.notes.feed_failing(url, *failing)
            else:
                await self.notes.feed_recovered(url, recovered)
        except Exception:
            log.exception("feed %s: could not queue the admins' note", url)
            return
        async with write_lock(self.conn):
            await store.set_failure_noted(self.conn, url, failing is not None)

    async def status(self) -> list[FeedState]:
        """Each configured feed's state, for /stats."""
        return await store.feed_states(self.conn, list(self.feeds))

    def start(self) -> None:
        """One polling task per feed (idempotent)."""
        if self._tasks or not self.feeds:
            return
        self._stop.clear()
        for url in self.feeds:
            self._tasks.append(asyncio.create_task(self._loop(url), name=f"feed {url}"))

    async def _loop(self, url: str) -> None:
        while not self._stop.is_set():
            await self.poll(url)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop polling: a poll under way may finish within ``timeout``, then it is cancelled."""
        self._stop.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._tasks.clear()
        await self.http.close()
