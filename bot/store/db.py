"""Open the one aiosqlite connection a process uses (WAL, foreign keys, migrations); write lock.

The process shares one aiosqlite connection in autocommit mode, so a statement issued by one task
while another task has a transaction open would silently join (or be rolled back with) that
transaction. Every writer therefore takes ``write_lock(conn)``; ``transaction(conn)`` is the lock
plus ``BEGIN IMMEDIATE``/``COMMIT``, and ``savepoint(conn)`` nests inside one. Hold the lock only
for database work, never across a network request.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

SCHEMA_VERSION = 7
CACHE_KIB = 2000
"""SQLite's page cache for the process's connection: its default 2 MB. 512 KiB saved 1.7 MB of
peak RSS but made search p95 at 50k about 0.5-1.5 ms slower for prefix queries
(bench/search_speed.py), the tighter target; docs/benchmarks.md, startup and memory."""
BULK_CACHE_KIB = 2000
"""SQLite's default page cache, kept for big scans (``bulk_cache``): a cold ingest of 5,000
articles with 512 KiB ran at 0.56× bench/ingest.py's floor against 0.64× with 2 MB."""


def _script(name: str) -> str:
    """The text of an SQL file shipped in bot/store."""
    return resources.files("bot.store").joinpath(name).read_text("utf-8")


# Migrations from version N-1 to N, applied in order inside one transaction each. Version 1 is
# the whole schema.sql; later issues append SQL here (or a file beside it) rather than editing
# schema.sql in place.
MIGRATIONS: dict[int, str] = {
    # 2: the deliverer claims a row (token + lease in next_try_at) instead of holding the write
    # lock while Telegram answers; NULL means nobody is sending it (see store/outbox.py).
    2: "ALTER TABLE deliveries ADD COLUMN claim_token TEXT;",
    # 3: feeds as a source; an article's original link, main image and teaser flag.
    3: _script("migration_003_feeds.sql"),
    # 4: an article outlives its file names (seed_files, article_keys), has a revision bumped on
    # every visible change, and its corrections are recorded for the admins (services/ingest.py).
    4: _script("migration_004_identity.sql"),
    # 5: the outbox learns actions (issue 11): follow-ups ('edit') that change a sent message in
    # place; a send row remembers what its message shows now (revision, shown, digest) so
    # corrections follow it. Admin notes stay version 3's rows (kind 'note', JSON ``note``).
    5: _script("migration_005_followups.sql"),
    # 6: the editor's controls (issue 13): deliveries to forum topics, silent, pinned and
    # prioritised rows, approval previews (kind 'preview'); per-target pauses, approvals and the
    # admins' last-seen languages.
    6: _script("migration_006_editor.sql"),
    # 7: one send row per article, chat, topic *and kind*: an admin's approval preview and the
    # same admin's subscriber alert are two messages to one private chat.
    7: "DROP INDEX deliveries_once;\nCREATE UNIQUE INDEX deliveries_once ON deliveries "
    "(article_id, chat_id, IFNULL(topic, 0), kind) WHERE manual = 0 AND action = 'send';",
}


class StoreError(Exception):
    """The database could not be opened or migrated (bad path, newer schema, not a database)."""


async def open_db(path: str | Path) -> aiosqlite.Connection:
    """Open (creating the folder and schema if needed) and return the connection."""
    path = Path(path)
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
    except (OSError, aiosqlite.Error) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        await _migrate(conn)
    except aiosqlite.Error as exc:
        await conn.close()
        raise StoreError(f"cannot use database {path}: {exc}") from exc
    except StoreError:
        await conn.close()
        raise
    return conn


async def _migrate(conn: aiosqlite.Connection) -> None:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this bot understands "
            f"({SCHEMA_VERSION}); upgrade the bot"
        )
    if version == SCHEMA_VERSION:
        return
    steps: list[tuple[int, str]] = []
    if version == 0:
        steps.append((1, _script("schema.sql")))
        version = 1
    steps += [(v, MIGRATIONS[v]) for v in range(version + 1, SCHEMA_VERSION + 1)]
    for target, sql in steps:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split_sql(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {target}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        log.info("database schema migrated to version %d", target)


def _split_sql(script: str) -> list[str]:
    """Split a schema script into complete statements (sqlite3.complete_statement decides)."""
    import sqlite3

    statements: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


_locks: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_lock(conn: aiosqlite.Connection) -> asyncio.Lock:
    """The one lock every writer on this connection holds, so transactions never interleave."""
    lock = _locks.get(conn)
    if lock is None:
        lock = _locks[conn] = asyncio.Lock()
    return lock


_generations: weakref.WeakKeyDictionary[aiosqlite.Connection, int] = weakref.WeakKeyDictionary()


def content_changed(conn: aiosqlite.Connection) -> None:
    """Note a write to what readers see (articles, the search index), or a rollback."""
    _generations[conn] = _generations.get(conn, 0) + 1


def content_generation(conn: aiosqlite.Connection) -> int:
    """Bumped by every article write and rollback on this connection: equal means unchanged.

    Unlike ``total_changes`` it ignores outbox and subscription writes, so a fan-out to
    thousands of subscribers does not keep emptying the readers' page caches.
    """
    return _generations.get(conn, 0)


@asynccontextmanager
async def transaction(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """Hold the write lock and run the block in one BEGIN IMMEDIATE … COMMIT (or ROLLBACK)."""
    async with write_lock(conn), unlocked_transaction(conn):
        yield conn


@asynccontextmanager
async def unlocked_transaction(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """A transaction for a caller that already holds ``write_lock(conn)``."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        await conn.execute("ROLLBACK")
        content_changed(conn)  # pages read inside the transaction may show undone rows
        raise
    await conn.execute("COMMIT")


@asynccontextmanager
async def savepoint(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """A nested transaction inside the caller's: if the block raises, only its writes are undone
    (the enclosing transaction goes on) and the exception propagates."""
    await conn.execute("SAVEPOINT nested")
    try:
        yield
    except BaseException:
        await conn.execute("ROLLBACK TO nested")
        await conn.execute("RELEASE nested")
        content_changed(conn)  # pages read inside the block may show undone rows
        raise
    await conn.execute("RELEASE nested")


@asynccontextmanager
async def bulk_cache(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """SQLite's default page cache (BULK_CACHE_KIB) for the block, then CACHE_KIB again."""
    await conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


async def scalar(conn: aiosqlite.Connection, sql: str, params: object = ()) -> int:
    """The first column of the first row as an int (0 when there is no row), in one trip to
    aiosqlite's thread (``execute`` + ``fetchone`` + ``close`` would be three)."""
    rows = list(await conn.execute_fetchall(sql, params))  # type: ignore[arg-type]
    return int(rows[0][0]) if rows else 0


async def data_version(conn: aiosqlite.Connection) -> int:
    """SQLite's ``PRAGMA data_version``: it changes when another connection commits."""
    return await scalar(conn, "PRAGMA data_version")
