"""Scan the seeds folder into the store: add, update in place, withdraw, record failures."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bot.models import FailedFile, IngestReport, ParsedArticle
from bot.parser import MAX_FILE_SIZE, ParseError, parse
from bot.store import articles
from bot.store.articles import FileState
from bot.store.db import savepoint, transaction

log = logging.getLogger(__name__)

BATCH = 256
"""Files prepared (read, parsed, stemmed) per worker hop and written per transaction."""
POOL_THRESHOLD = 1000
"""Scans with at least this many files to read use worker processes."""
MAX_WORKERS = 4

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while files are processed."""


class IngestError(Exception):
    """The scan could not run at all (folder missing, not a folder, unreadable)."""


@dataclass(frozen=True, slots=True)
class _SeedFile:
    source: str
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class _Prepared:
    file: _SeedFile
    digest: str = ""
    parsed: ParsedArticle | None = None
    fts: dict[str, str] | None = None
    error: str | None = None


@dataclass(slots=True)
class _Listing:
    """What a walk of the seeds folder found, compared with the store's stamps."""

    total: int = 0
    unchanged: int = 0
    todo: list[_SeedFile] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    """Files that failed before and have not changed since: reported again, not re-read."""
    failures_seen: set[str] = field(default_factory=set)


def walk_seeds(seeds_dir: Path) -> Iterator[tuple[str, str, int, int]]:
    """(source, path, size, mtime_ns) of every ``*.txt`` below the folder, hidden ones skipped.

    ``source`` is the path relative to the folder with ``/`` separators. os.scandir and plain
    strings, not Path objects: a walk over 50k files should cost a few MB, not tens.
    """
    if not seeds_dir.exists():
        raise IngestError(f"seeds folder {seeds_dir} does not exist")
    if not seeds_dir.is_dir():
        raise IngestError(f"seeds folder {seeds_dir} is not a folder")
    stack = [(str(seeds_dir), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            # Lazily: a list of 50k DirEntry objects alone would be ~45 MB at its peak.
            with os.scandir(folder) as entries:
                for entry in entries:
                    found = _seed_entry(entry, prefix, stack)
                    if found is not None:
                        yield found
        except OSError as exc:
            if not prefix:
                raise IngestError(f"cannot read seeds folder {seeds_dir}: {exc}") from exc
            log.warning("cannot read seed subfolder %s: %s", prefix.rstrip("/"), exc)


def _seed_entry(
    entry: os.DirEntry[str], prefix: str, folders: list[tuple[str, str]]
) -> tuple[str, str, int, int] | None:
    """The seed file behind a directory entry, or None (subfolders go onto ``folders``)."""
    name = entry.name
    if name.startswith("."):
        return None
    try:
        if entry.is_dir():
            folders.append((entry.path, f"{prefix}{name}/"))
            return None
        if not name.lower().endswith(".txt") or not entry.is_file():
            return None
        st = entry.stat()
    except OSError:
        return None  # vanished between listing and stat: the next scan sees the truth
    return f"{prefix}{name}", entry.path, st.st_size, st.st_mtime_ns


def compare(seeds_dir: Path, stamps: dict[str, int], failures: dict[str, FileState]) -> _Listing:
    """Walk the folder and sort its files into unchanged, failed-and-unchanged and to-do.

    Runs in a thread. Each file found is removed from ``stamps``: what is left afterwards are
    the visible articles whose files are gone.
    """
    out = _Listing()
    for source, path, size, mtime_ns in walk_seeds(seeds_dir):
        out.total += 1
        known = stamps.pop(source, None)
        failure = failures.get(source)
        if failure is not None:
            out.failures_seen.add(source)
            if (failure.size, failure.mtime_ns) == (size, mtime_ns):
                out.failed.append(FailedFile(source, failure.failure or "unknown error"))
                continue
        elif known == articles.stamp(size, mtime_ns):
            out.unchanged += 1
            continue
        out.todo.append(_SeedFile(source, path, size, mtime_ns))
    out.todo.sort(key=lambda f: f.source)
    return out


def _prepare(file: _SeedFile, tz: ZoneInfo) -> _Prepared:
    """Read, hash and parse one file; runs in a worker thread, never raises."""
    try:
        with open(file.path, "rb") as fh:
            data = fh.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        return _Prepared(file, error=f"cannot read file: {exc.strerror or exc}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        parsed = parse(data, mtime=file.mtime_ns / 1e9, tz=tz)
    except ParseError as exc:
        return _Prepared(file, digest, error=str(exc))
    except Exception as exc:  # a parser bug must not stop the scan; report it by name
        log.exception("parser crashed on %s", file.source)
        return _Prepared(file, digest, error=f"internal parser error: {exc!r}")
    return _Prepared(file, digest, parsed, articles.fts_values(parsed))


def _prepare_batch(batch: list[_SeedFile], tz: ZoneInfo) -> list[_Prepared]:
    """``_prepare`` over a batch; the unit of work sent to a thread or worker process."""
    return [_prepare(f, tz) for f in batch]


class Ingestor:
    """Keeps the store in step with the seeds folder; one scan at a time.

    Each batch is written under the connection's write lock (``db.transaction``), so other
    writers interleave between batches instead of waiting for a whole cold scan.
    """

    def __init__(self, conn: aiosqlite.Connection, seeds_dir: Path, tz: ZoneInfo) -> None:
        self.conn = conn
        self.seeds_dir = Path(seeds_dir)
        self.tz = tz
        self._lock = asyncio.Lock()
        self._published: dict[int, float] = {}

    async def scan(self, progress: Progress | None = None) -> IngestReport:
        """Bring the store up to date with the folder and say what changed."""
        async with self._lock:
            return await self._scan(progress)

    async def _scan(self, progress: Progress | None) -> IngestReport:
        report = IngestReport()
        stamps = await articles.file_stamps(self.conn)
        failures = await articles.failure_states(self.conn)
        listing = await asyncio.to_thread(compare, self.seeds_dir, stamps, failures)
        report.unchanged = listing.unchanged
        report.failed.extend(listing.failed)
        done, total = listing.total - len(listing.todo), listing.total
        if progress:
            progress(done, total)
        async for prepared in self._prepared_batches(listing.todo):
            await self._write(prepared, report)
            done += len(prepared)
            if progress:
                progress(done, total)
        gone = list(stamps) + [s for s in failures if s not in listing.failures_seen]
        if gone:
            states = await articles.file_states(self.conn, gone)
            await self._forget(list(states.values()), report)
        report.failed.sort(key=lambda f: f.name)
        report.added_ids.sort(key=lambda i: (self._published.get(i, 0.0), i))
        self._published.clear()
        return report

    async def _prepared_batches(self, todo: list[_SeedFile]) -> AsyncIterator[list[_Prepared]]:
        """Batches of read+parsed+stemmed files, in order.

        Large scans (a cold start) parse and stem in worker processes so both cores work while
        this process writes SQLite; a small scan (a tick finding a few new files) uses a thread.
        """
        batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if len(todo) < POOL_THRESHOLD or workers < 2:
            for batch in batches:
                yield await asyncio.to_thread(_prepare_batch, batch, self.tz)
            return
        loop = asyncio.get_running_loop()
        ctx = multiprocessing.get_context("spawn")  # no fork: the process has live threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending: deque[asyncio.Future[list[_Prepared]]] = deque()
            for batch in batches:
                pending.append(loop.run_in_executor(pool, _prepare_batch, batch, self.tz))
                if len(pending) > 2 * workers:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()

    async def _write(self, prepared: list[_Prepared], report: IngestReport) -> None:
        now = time.time()
        async with transaction(self.conn):
            known = await articles.file_states(self.conn, [item.file.source for item in prepared])
            for item in prepared:
                try:  # one file's database error undoes that file only, not the batch
                    async with savepoint(self.conn):
                        await self._apply(item, known.get(item.file.source), report, now)
                except aiosqlite.Error as exc:
                    log.error("could not store %s: %s", item.file.source, exc)
                    report.failed.append(FailedFile(item.file.source, f"database error: {exc}"))

    async def _apply(
        self, item: _Prepared, state: FileState | None, report: IngestReport, now: float
    ) -> None:
        f = item.file
        sizes = {"size": f.size, "mtime_ns": f.mtime_ns}
        if item.parsed is None:
            reason = item.error or "unknown error"
            await articles.record_failure(self.conn, f.source, reason, now=now, **sizes)
            report.failed.append(FailedFile(f.source, reason))
            return
        if state is not None and state.failure is not None:
            await articles.clear_failure(self.conn, f.source)
        if state is None or state.article_id is None:
            new_id = await self._save(item, item.parsed, None, now)
            report.added += 1
            report.added_ids.append(new_id)
            self._published[new_id] = item.parsed.published_at.timestamp()
        elif state.content_hash == item.digest and not state.withdrawn:
            await articles.touch_file(self.conn, state.article_id, **sizes)
            report.unchanged += 1
        else:
            await self._save(item, item.parsed, state.article_id, now)
            if state.withdrawn:
                report.restored += 1
            else:
                report.updated += 1

    async def _save(
        self, item: _Prepared, parsed: ParsedArticle, article_id: int | None, now: float
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
        )

    async def _forget(self, gone: list[FileState], report: IngestReport) -> None:
        now = time.time()
        async with transaction(self.conn):
            for state in gone:
                if state.failure is not None:
                    await articles.clear_failure(self.conn, state.source)
                if state.article_id is not None and not state.withdrawn:
                    await articles.withdraw(self.conn, state.article_id, now=now)
                    report.withdrawn += 1
