"""Scan the seeds folder into the store: settle, add, correct in place, link copies, withdraw.

A file reaches the store only once settled (bot.services.settle); a new file holding an article
the store already knows (bot.identity) is linked to it, not added; an article is withdrawn only
when its last file has been gone for longer than SETTLE_SECONDS. Every visible change bumps the
article's revision in the same transaction, and corrections of announced articles are recorded
for the admins (docs/seed-format.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bot.identity import identity_key, visible_changes
from bot.models import Article, FailedFile, IngestReport, ParsedArticle
from bot.services.index_upkeep import MERGE_EVERY, merge_index
from bot.services.seedwalk import (
    IngestError,
    Listing,
    Prepared,
    SeedFile,
    compare,
    prepare_batch,
    walk_seeds,
)
from bot.services.settle import SettleTracker
from bot.store import articles, corrections, files
from bot.store.articles import FileState
from bot.store.db import bulk_cache, savepoint, transaction

__all__ = ["IngestError", "Ingestor"]

log = logging.getLogger(__name__)

BATCH = 256
"""Files prepared (read, parsed, stemmed) per worker hop and written per transaction."""
POOL_THRESHOLD = 1000
"""Scans with at least this many files to read use worker processes."""
MAX_WORKERS = 4

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while files are processed."""


class Ingestor:
    """Keeps the store in step with the seeds folder; one scan at a time.

    Each batch is written under the connection's write lock (``db.transaction``), so other
    writers interleave between batches instead of waiting for a whole cold scan.
    ``settle_seconds`` 0 applies every file at once (the tests' and the CLI's --now default).
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        seeds_dir: Path,
        tz: ZoneInfo,
        *,
        settle_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
        merge_every: int = MERGE_EVERY,
    ) -> None:
        self.conn = conn
        self.merge_every = merge_every
        self.seeds_dir = Path(seeds_dir)
        self.tz = tz
        self.settle = SettleTracker(settle_seconds, clock)
        self.clock = clock
        self._lock = asyncio.Lock()
        self._published: dict[int, float] = {}
        self._keyed = False
        self._kept: set[int] = set()
        """Articles without a present file, kept visible while a copy of them settles."""

    async def scan(self, progress: Progress | None = None) -> IngestReport:
        """Bring the store up to date with the folder and say what changed."""
        async with self._lock:
            return await self._scan(progress)

    async def _scan(self, progress: Progress | None) -> IngestReport:
        report = IngestReport()
        await self._key_old_articles()
        failures = await articles.failure_states(self.conn)
        listing = await compare(self.seeds_dir, partial(files.stamps_of, self.conn), failures)
        missing = await self._missing(listing)
        report.unchanged = listing.unchanged
        report.failed.extend(listing.failed)
        done, total = listing.total - len(listing.todo), listing.total
        if progress:
            progress(done, total)
        big = len(listing.todo) >= POOL_THRESHOLD
        async with bulk_cache(self.conn) if big else contextlib.nullcontext():
            async for prepared in self._prepared_batches(listing.todo):
                await self._write(prepared, report, missing)
                done += len(prepared)
                if progress:
                    progress(done, total)
        self.settle.keep_only((f.source for f in listing.todo), missing)
        cleared = [s for s in failures if s not in listing.failures_seen]
        await self._forget(missing, [failures[s] for s in cleared], report)
        await merge_index(self.conn, report, self.merge_every)
        report.settle_at = self.settle.next_deadline()
        report.failed.sort(key=lambda f: f.name)
        report.added_ids.sort(key=lambda i: (self._published.get(i, 0.0), i))
        self._published.clear()
        return report

    async def _missing(self, listing: Listing) -> set[str]:
        """Files present at the last scan and not found now: none when the walk found as many
        known files as the store has present, which a scan of an unchanged folder shows."""
        gone = await files.count_present(self.conn) - listing.known
        if not gone:
            return set()
        missing = {s async for s in files.present_sources(self.conn) if not listing.saw(s)}
        if len(missing) != gone:  # two names with one 64-bit hash: compare by name instead
            found = await asyncio.to_thread(lambda: {f[0] for f in walk_seeds(self.seeds_dir)})
            missing = {s async for s in files.present_sources(self.conn) if s not in found}
        return missing

    async def _prepared_batches(self, todo: list[SeedFile]) -> AsyncIterator[list[Prepared]]:
        """Batches of read+parsed+stemmed files, in order.

        Large scans (a cold start) parse and stem in worker processes so both cores work while
        this process writes SQLite; a small scan (a tick finding a few new files) uses a thread.
        """
        batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if len(todo) < POOL_THRESHOLD or workers < 2:
            for batch in batches:
                yield await asyncio.to_thread(prepare_batch, batch, self.tz)
            return
        import multiprocessing  # here: only a big scan needs the pool (0.4 MB of modules)
        from concurrent.futures import ProcessPoolExecutor

        loop = asyncio.get_running_loop()
        ctx = multiprocessing.get_context("spawn")  # no fork: the process has live threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending: deque[asyncio.Future[list[Prepared]]] = deque()
            for batch in batches:
                pending.append(loop.run_in_executor(pool, prepare_batch, batch, self.tz))
                if len(pending) > 2 * workers:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()

    async def _write(
        self, prepared: list[Prepared], report: IngestReport, missing: set[str]
    ) -> None:
        ready = []
        for item in prepared:
            f = item.file
            if self.settle.settled(f.source, (f.size, f.mtime_ns, item.digest), item.key):
                ready.append(item)
            else:
                report.settling += 1
        if not ready:
            return
        now = self.clock()
        async with transaction(self.conn):
            known = await articles.file_states(self.conn, [item.file.source for item in ready])
            new_keys = [i.key for i in ready if i.key and _unlinked(known.get(i.file.source))]
            by_key = await files.articles_by_key(self.conn, new_keys)
            for item in ready:
                try:  # one file's database error undoes that file only, not the batch
                    async with savepoint(self.conn):
                        state = known.get(item.file.source)
                        await self._apply(item, state, by_key, missing, report, now)
                except aiosqlite.Error as exc:
                    log.error("could not store %s: %s", item.file.source, exc)
                    report.failed.append(FailedFile(item.file.source, f"database error: {exc}"))

    async def _apply(
        self,
        item: Prepared,
        state: FileState | None,
        by_key: dict[str, int],
        missing: set[str],
        report: IngestReport,
        now: float,
    ) -> None:
        f = item.file
        if item.parsed is None or item.key is None:
            reason = item.error or "unknown error"
            await articles.record_failure(
                self.conn, f.source, reason, size=f.size, mtime_ns=f.mtime_ns, now=now
            )
            report.failed.append(FailedFile(f.source, reason))
            return
        if state is not None and state.failure is not None:
            await articles.clear_failure(self.conn, f.source)
        article_id = None if _unlinked(state) else state.article_id  # type: ignore[union-attr]
        if article_id is None and (article_id := by_key.get(item.key)) is None:
            new_id = await self._save(item, item.parsed, None, now)  # its file: a trigger
            by_key[item.key] = new_id
            report.added += 1
            report.added_ids.append(new_id)
            self._published[new_id] = item.parsed.published_at.timestamp()
            return
        old = await articles.get_article_any(self.conn, article_id)
        assert old is not None  # seed_files and article_keys reference articles
        if _unlinked(state):  # a new name for a known article: a copy, a rename or a return
            others = [
                s for s in await files.present_files(self.conn, article_id) if s not in missing
            ]
            await self._link(item, article_id, now)
            if old.withdrawn:
                await self._change(item, item.parsed, old, report, now)
            elif others:
                report.duplicates.append(f.source)
            else:
                report.moved += 1
            return
        await self._link(item, article_id, now)
        if state is not None and state.content_hash == item.digest and not state.withdrawn:
            report.unchanged += 1
        else:
            await self._change(item, item.parsed, old, report, now)

    async def _change(
        self, item: Prepared, parsed: ParsedArticle, old: Article, report: IngestReport, now: float
    ) -> None:
        """New content for a known article: a correction, a return, or nothing visible."""
        if old.date_from_mtime and parsed.date_from_mtime:  # a dateless article keeps its date
            parsed = replace(parsed, published_at=old.published_at)
        changes = visible_changes(old, parsed)
        if not changes and not old.withdrawn:
            report.unchanged += 1  # promo or sidebar only: readers see nothing new
            return
        await self._save(item, parsed, old.id, now, bump=True)
        if old.withdrawn:
            report.restored += 1
            return
        report.updated += 1
        await corrections.add_if_announced(self.conn, old.id, fields=changes, now=now)

    async def _save(
        self,
        item: Prepared,
        parsed: ParsedArticle,
        article_id: int | None,
        now: float,
        *,
        bump: bool = False,
    ) -> int:
        """Store a parsed file as a new article (``article_id`` None) or over its old one."""
        return await articles.save_article(
            self.conn,
            item.file.source,
            parsed,
            article_id=article_id,
            size=item.file.size,
            mtime_ns=item.file.mtime_ns,
            digest=item.digest,
            now=now,
            fts=item.fts,
            key=item.key,
            bump=bump,
        )

    async def _link(self, item: Prepared, article_id: int, now: float) -> None:
        f = item.file
        await files.link_file(
            self.conn, f.source, article_id, size=f.size, mtime_ns=f.mtime_ns,
            digest=item.digest, now=now,
        )  # fmt: skip

    async def _forget(
        self, missing: set[str], cleared: list[FileState], report: IngestReport
    ) -> None:
        """Files gone: failures are forgotten at once, articles withdrawn once their last file
        has been gone for longer than SETTLE_SECONDS and no copy of them is settling."""
        gone = sorted(s for s in missing if self.settle.gone(s))
        report.settling += len(missing) - len(gone)
        if not (gone or cleared or self._kept):
            return
        now = self.clock()
        async with transaction(self.conn):
            for state in cleared:
                await articles.clear_failure(self.conn, state.source)
            for source in gone:
                if (article_id := await files.mark_gone(self.conn, source, now=now)) is not None:
                    self._kept.add(article_id)
            settling = await files.articles_by_key(self.conn, sorted(self.settle.pending_keys()))
            for article_id in sorted(self._kept):
                if await files.present_files(self.conn, article_id):
                    self._kept.discard(article_id)
                elif article_id not in settling.values():
                    self._kept.discard(article_id)
                    if await articles.withdraw(self.conn, article_id, now=now):
                        report.withdrawn += 1

    async def _key_old_articles(self) -> None:
        """Give articles stored before identity keys existed their key (once per process)."""
        if self._keyed:
            return
        while rows := await articles.unkeyed(self.conn):
            async with transaction(self.conn):
                for article in rows:
                    await files.set_key(self.conn, article.id, identity_key(article))
        self._keyed = True


def _unlinked(state: FileState | None) -> bool:
    """No article behind this path yet (never seen, or only a parse failure recorded)."""
    return state is None or state.article_id is None
