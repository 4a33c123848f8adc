"""Follow-ups in the store and what gets queued: migrations 3 → 5, one pending follow-up per
message, the 48-hour alert window, keep mode, cancelled and returning sends, one note per
corrected article. Corrections are written into the store directly, as ingest writes them."""

from __future__ import annotations

import time
from pathlib import Path

import aiosqlite
import pytest

from bot.models import Note
from bot.services import followups
from bot.store import corrections, outbox
from bot.store import followups as store
from bot.store.db import SCHEMA_VERSION, open_db, scalar, transaction, write_lock
from tests.helpers import old_database, publishing_service, seed_article

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


async def test_a_version_3_feeds_database_migrates_to_the_latest(tmp_path: Path) -> None:
    """What a bot of issue 14 left behind (schema 3: feeds, notes in the outbox) gains
    identities (4) and follow-ups (5) without losing a row; feed articles get no seed file."""
    path = tmp_path / "v3.sqlite3"
    await old_database(path, 3)  # seed article 1 'a.txt'
    old = await aiosqlite.connect(path)
    await old.execute(
        "INSERT INTO articles (id, source, origin, url, title, published_at, lead, file_size, "
        "file_mtime_ns, content_hash, added_at) VALUES (2, 'feed:site.example/a', 'feed', "
        "'https://site.example/a', 'Из ленты', 2.0, 'Лид', 1, 0, 'f', 2.0)"
    )
    await old.execute(
        "INSERT INTO deliveries (article_id, chat_id, kind, status, created_at, message_id) "
        "VALUES (1, '@news', 'channel', 'sent', 0, 5), (2, '9', 'subscriber', 'queued', 0, NULL)"
    )
    await old.execute(
        "INSERT INTO deliveries (article_id, chat_id, kind, note, created_at) VALUES "
        """(NULL, '7', 'note', '{"key": "feed_recovered", "values": {"url": "u"}}', 0)"""
    )
    await old.commit()
    await old.close()
    conn = await open_db(path)  # migrates 3 → 4 → 5
    try:
        assert await scalar(conn, "PRAGMA user_version") == SCHEMA_VERSION == 7
        sent, queued, note = await outbox.all_deliveries(conn)
        assert (sent.status, sent.message_id, sent.revision, sent.shown, sent.action) == (
            "sent", 5, 1, "article", "send",
        )  # fmt: skip
        assert (queued.status, queued.revision, queued.shown, queued.action) == (
            "queued", None, None, "send",
        )  # fmt: skip
        assert (note.kind, note.article_id, note.note, note.revision, note.shown) == (
            "note", None, Note("feed_recovered", {"url": "u"}), None, None,
        )  # fmt: skip
        files = await conn.execute_fetchall("SELECT source, article_id FROM seed_files")
        assert [tuple(r) for r in files] == [("a.txt", 1)]  # the feed article has no file
        assert await scalar(conn, "SELECT revision FROM articles WHERE id = 2") == 1
        indexes = await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'"
        )
        assert {r[0] for r in indexes} >= {"deliveries_once", "deliveries_followup"}
        with pytest.raises(aiosqlite.IntegrityError):  # a note never points at an article
            await conn.execute(
                "INSERT INTO deliveries (article_id, chat_id, kind, created_at) "
                "VALUES (1, '900', 'note', 1)"
            )
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
    notes = [(d.chat_id, d.note) for d in rows if d.kind == "note" and d.note is not None]
    assert [(chat, n.key, n.values["fields"]) for chat, n in notes] == [
        ("7", "correction_note", "title,text"),
        ("8", "correction_note", "title,text"),
        ("7", "correction_note", "date"),
        ("8", "correction_note", "date"),
    ]
    assert str(notes[0][1].values["title"]).endswith("!!")
    assert notes[0][1].values["article"] == str(aid)
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
