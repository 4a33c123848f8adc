"""The outbox per target on a real SQLite file: one head per (chat, topic), /post's priority
first, a target paused alone, held sends, and the topics of one forum sharing its pacing."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import aiosqlite

from bot.models import Target
from bot.services.scheduler import Deliverer
from bot.services.targets import TargetRules
from bot.store import outbox
from bot.store import targets as targets_store
from bot.store.db import write_lock
from tests.helpers import StemMatcher, seed_article
from tests.test_publishing import FAST, FakePublisher, drain, setup

FORUM = "-1002000000001"


def heads_of(heads: list[outbox.Delivery]) -> list[tuple[str, int | None, int | None]]:
    return [(d.chat_id, d.topic, d.article_id) for d in heads]


async def test_one_head_per_target_priority_first_pause_and_hold(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    await setup(conn, tmp_path, 3, channel=None)
    async with conn.execute("SELECT id FROM articles ORDER BY published_at") as cur:
        a, b, c = [int(r[0]) for r in await cur.fetchall()]
    ids = (a, b, c)
    async with write_lock(conn):
        for aid in ids:
            await outbox.enqueue(conn, aid, FORUM, "channel", now=1.0, topic=5)
            await outbox.enqueue(conn, aid, FORUM, "channel", now=1.0, topic=6)
        assert not await outbox.enqueue(conn, a, FORUM, "channel", now=1.0, topic=5)  # once
        await outbox.enqueue(conn, b, "7", "subscriber", now=1.0)
    heads = await outbox.due_heads(conn, 10.0, include_channel=True)
    assert heads_of(heads) == [(FORUM, 5, a), (FORUM, 6, a), ("7", None, b)]
    async with write_lock(conn):  # /post c: ahead of topic 6's queue
        await outbox.enqueue(conn, c, FORUM, "channel", now=2.0, topic=6, manual=True, priority=1)
    heads = await outbox.due_heads(conn, 10.0, include_channel=True)
    assert heads_of(heads) == [(FORUM, 6, c), (FORUM, 5, a), ("7", None, b)]
    async with write_lock(conn):
        await targets_store.pause(conn, targets_store.target_key(FORUM, 5), "403", now=3.0)
    heads = await outbox.due_heads(conn, 10.0, include_channel=True)
    assert heads_of(heads) == [(FORUM, 6, c), ("7", None, b)]
    held = await outbox.due_heads(conn, 10.0, include_channel=True, hold=True)
    assert heads_of(held) == [(FORUM, 6, c)]  # the quiet hours hold all but /post's row
    async with write_lock(conn):
        assert await targets_store.resume(conn) == 1
    heads = await outbox.due_heads(conn, 10.0, include_channel=False)
    assert heads_of(heads) == [("7", None, b)]  # /pause: no channel rows at all


async def test_topics_of_one_forum_share_its_pacing_and_get_their_targets(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, _ = await setup(conn, tmp_path, 0, channel=None)
    rules = TargetRules(
        [Target(FORUM, topic=5), Target(FORUM, topic=6, silent=True)], StemMatcher(conn)
    )
    pub_service.targets = rules
    for i in range(3):
        seed_article(tmp_path / "seeds", i)
    assert (await pub_service.tick()).queued.channel == 6
    pub = FakePublisher()
    await drain(Deliverer(conn, pub, pacing=replace(FAST, chat_interval=0.05), targets=rules))
    assert len(pub.sent) == 6 and {s.chat_id for s in pub.sent} == {FORUM}
    where = sorted((s.topic, s.silent) for s in pub.sent)
    assert where == [(5, False)] * 3 + [(6, True)] * 3  # the silent target
    times = [s.at for s in pub.sent]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.045  # one chat: 1 per interval
