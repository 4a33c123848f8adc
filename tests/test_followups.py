"""Follow-ups in the store and what gets queued: migration 4, one pending follow-up per message,
the 48-hour alert window, keep mode, cancelled and returning sends, one note per corrected
article. Corrections are written into the store directly, as ingest writes them."""

from __future__ import annotations

import time
from pathlib import Path

import aiosqlite

from bot.services import followups
from bot.services.followups import AdminNote
from bot.store import corrections, outbox
from bot.store import followups as store
from bot.store.db import open_db, transaction, write_lock
from tests.helpers import publishing_service, seed_article

ADMINS = frozenset({7, 8})


async def sent_article(conn: aiosqlite.Connection, tmp_path: Path, subscriber: int = 0) -> int:
    """One article posted to @news (and alerted to ``subscriber``): its id."""
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    pub = publishing_service(conn, seeds, backlog=100)
    await pub.tick()
    if subscriber:
        await pub.subscriptions.subscribe(subscriber)
    seed_article(seeds, 1)
    await pub.tick()
    async with write_lock(conn):
        for i, d in enumerate(await outbox.all_deliveries(conn), 1):
            await outbox.mark_sent(
                conn, d.id, message_id=i, now=time.time(), revision=1, digest="a"
            )
    return (await outbox.all_deliveries(conn))[0].article_id or 0


async def correct(conn: aiosqlite.Connection, article_id: int, fields: tuple[str, ...]) -> None:
    """What ingest does on a visible change: bump the revision, record the correction."""
    async with transaction(conn):
        await conn.execute(
            "UPDATE articles SET revision = revision + 1, title = title || '!' WHERE id = ?",
            (article_id,),
        )
        await corrections.add_if_announced(conn, article_id, fields=fields, now=time.time())


async def queue(conn: aiosqlite.Connection, *, keep: bool = False) -> int:
    return await followups.queue_followups(conn, admin_ids=ADMINS, keep_withdrawn=keep)


def edits(rows: list[outbox.Delivery]) -> list[tuple[str, int | None, str]]:
    return [(d.chat_id, d.parent_id, d.status) for d in rows if d.action == "edit"]


async def test_migration_4_keeps_the_outbox_and_marks_what_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = await open_db(path)
    await conn.execute("PRAGMA user_version = 3")  # pretend: a version-3 database …
    await conn.execute("DROP TABLE deliveries")  # … whose outbox has the version-3 shape
    await conn.execute(
        "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, article_id INTEGER NOT NULL, "
        "chat_id TEXT NOT NULL, kind TEXT NOT NULL, manual INTEGER NOT NULL DEFAULT 0, "
        "status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0, "
        "last_error TEXT, next_try_at REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL, "
        "sent_at REAL, message_id INTEGER, claim_token TEXT)"
    )
    await conn.execute(
        "INSERT INTO articles (id, source, title, published_at, lead, file_size, file_mtime_ns, "
        "content_hash, added_at) VALUES (1, 'a.txt', 'T', 0, 'L', 1, 1, 'h', 0)"
    )
    await conn.execute(
        "INSERT INTO deliveries (article_id, chat_id, kind, status, created_at, message_id) "
        "VALUES (1, '@news', 'channel', 'sent', 0, 5), (1, '9', 'subscriber', 'queued', 0, NULL)"
    )
    await conn.close()
    conn = await open_db(path)  # migrates 3 → 4
    try:
        sent, queued = await outbox.all_deliveries(conn)
        assert (sent.status, sent.message_id, sent.revision, sent.shown) == (
            "sent",
            5,
            1,
            "article",
        )
        assert (queued.status, queued.revision, queued.shown, queued.action) == (
            "queued",
            None,
            None,
            "send",
        )
        indexes = await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'"
        )
        assert {r[0] for r in indexes} >= {"deliveries_once", "deliveries_followup"}
        async with write_lock(conn):  # an edit of a sent post is no second "send" of it
            await store.queue_one(conn, sent.id, now=1.0)
            assert not await store.queue_one(conn, sent.id, now=2.0)  # one pending per message
    finally:
        await conn.close()


async def test_one_pending_follow_up_per_message_and_one_note_per_article(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    aid = await sent_article(conn, tmp_path, subscriber=55)
    assert await queue(conn) == 0  # nothing changed yet
    await correct(conn, aid, ("title",))
    await correct(conn, aid, ("title", "text"))
    assert await queue(conn) == 2 + len(ADMINS)  # post and alert: one follow-up each
    await correct(conn, aid, ("date",))
    assert await queue(conn) == len(ADMINS)  # still one pending per message; a new note
    rows = await outbox.all_deliveries(conn)
    assert edits(rows) == [("@news", 1, "queued"), ("55", 2, "queued")]
    notes = [(d.chat_id, AdminNote.from_json(d.payload or "")) for d in rows if d.kind == "admin"]
    assert [(chat, n.fields) for chat, n in notes] == [
        ("7", ("title", "text")),
        ("8", ("title", "text")),
        ("7", ("date",)),
        ("8", ("date",)),
    ]
    assert notes[0][1].title.endswith("!!") and notes[0][1].article_id == aid
    assert await corrections.unnoted(conn) == []
    stats = await store.correction_stats(conn)
    assert (stats.articles, stats.corrections, stats.queued) == (1, 3, 2)


async def test_old_alerts_and_lost_posts_are_left_alone(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    aid = await sent_article(conn, tmp_path, subscriber=55)
    async with write_lock(conn):
        await conn.execute(
            "UPDATE deliveries SET sent_at = :t", {"t": time.time() - 49 * 3600}
        )  # both went out 49 hours ago
        await conn.execute("UPDATE deliveries SET shown = 'lost' WHERE kind = 'channel'")
    await correct(conn, aid, ("title",))
    assert await queue(conn) == len(ADMINS)  # the admins hear of it; no message is changed
    assert edits(await outbox.all_deliveries(conn)) == []


async def test_withdrawal_cancels_queued_sends_and_a_return_brings_them_back(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    aid = await sent_article(conn, tmp_path)
    async with write_lock(conn):
        await outbox.enqueue(conn, aid, "77", "subscriber", now=time.time())
        await conn.execute("UPDATE articles SET withdrawn = 1, revision = 2 WHERE id = ?", (aid,))
    assert await queue(conn, keep=True) == 0  # keep: the post stays as it is
    rows = await outbox.all_deliveries(conn)
    assert [(d.chat_id, d.status, d.last_error) for d in rows] == [
        ("@news", "sent", None),
        ("77", "cancelled", store.WITHDRAWN),
    ]
    assert await queue(conn) == 1  # notice mode: the post gets its follow-up
    async with write_lock(conn):
        await conn.execute("UPDATE articles SET withdrawn = 0, revision = 3 WHERE id = ?", (aid,))
    assert await queue(conn) == 1  # the cancelled send is queued again
    rows = await outbox.all_deliveries(conn)
    assert [(d.chat_id, d.action, d.status) for d in rows] == [
        ("@news", "send", "sent"),
        ("77", "send", "queued"),
        ("@news", "edit", "queued"),
    ]
