"""QUIET_MODE=hold across midnight, /post <id> [pin] [silent] ahead of the queue (pinned, or
recorded failed without the right to pin), and migrations keeping old deliveries."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.config import Settings
from bot.quiet import parse_quiet_hours
from bot.store import outbox
from bot.store.db import SCHEMA_VERSION, open_db
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    FAST,
    MSK,
    channel,
    delivery_settings,
    old_database,
    say,
)
from tests.test_targets_e2e import SECOND, running, seed, stats_of, titles, with_targets

READER = 7
GROUP = -1009000000001


async def queued(conn: aiosqlite.Connection, n: int) -> bool:
    return len([d for d in await outbox.all_deliveries(conn) if d.status == "queued"]) >= n


async def test_quiet_hours_hold_posts_until_the_window_ends(
    settings: Settings, fake: FakeTelegram
) -> None:
    cfg = replace(
        delivery_settings(settings),
        quiet_hours=parse_quiet_hours("23:00-07:00", MSK),
        quiet_mode="hold",
    )
    now = [datetime(2025, 5, 21, 23, 30, tzinfo=MSK).timestamp()]
    async with running(cfg, fake, clock=lambda: now[0]) as app:
        assert "Готово" in (await say(fake, READER, "/subscribe"))[0].text  # replies: at once
        seed(cfg, "n2.txt", "Вторая ночная", "Текст.", 2)
        seed(cfg, "n1.txt", "Первая ночная", "Текст.", 1)
        seed(cfg, "n3.txt", "Третья ночная", "Текст.", 3)
        await say(fake, ADMIN, "/reload")
        assert await queued(app.conn, 6)  # three posts, three alerts: recorded, held
        await fake.settle(0.6)
        assert fake.sent_messages(channel(fake)) == []
        assert len(fake.sent_messages(READER)) == 1  # only the /subscribe reply
        now[0] = datetime(2025, 5, 22, 2, 0, tzinfo=MSK).timestamp()  # after midnight: held
        mark = fake.mark()
        await say(fake, ADMIN, "/post 1")  # by hand: now (silent, it is night), not held
        [by_hand] = await fake.wait_for_messages(channel(fake), 1, since=mark)
        assert by_hand.silent
        await fake.settle(0.6)
        assert len(fake.sent_messages(channel(fake))) == 1
        now[0] = datetime(2025, 5, 22, 7, 0, tzinfo=MSK).timestamp()  # the window ends
        posts = (await fake.wait_for_messages(channel(fake), 4))[1:]
        alerts = [m for m in await fake.wait_for_messages(READER, 4) if m.buttons]
        assert [p.text.split("\n")[0] for p in posts] == [
            "Первая ночная",
            "Вторая ночная",
            "Третья ночная",
        ]
        assert [a.text.split("\n")[0] for a in alerts] == [p.text.split("\n")[0] for p in posts]
        assert not any(m.silent for m in posts + alerts)  # the morning: with a notification
        gaps = [b.time - a.time for a, b in itertools.pairwise(posts)]
        assert min(gaps) >= FAST.chat_interval * 0.9  # paced, as any burst


async def test_post_pin_silent_goes_first_and_a_missing_pin_right_is_recorded(
    settings: Settings, tmp_path: Path, fake: FakeTelegram
) -> None:
    fake.add_channel("second", SECOND, "Второй канал")
    fake.set_bot_rights("@second", can_edit_messages=False)  # may post, may not pin
    fake.add_chat(GROUP, "supergroup", title="Группа")
    cfg = with_targets(
        settings,
        tmp_path,
        '[[target]]\nchat = "@news"\n\n[[target]]\nchat = "@second"\n\n'
        f"[[target]]\nchat = {GROUP}\n",
    )
    async with running(cfg, fake) as app:
        assert "Использование" in (await say(fake, ADMIN, "/post 1 loud"))[0].text
        assert "Статьи 9999 нет" in (await say(fake, ADMIN, "/post 9999 pin"))[0].text
        await say(fake, ADMIN, "/pause")
        seed(cfg, "q1.txt", "Очередная первая", "Текст.", 1)
        seed(cfg, "q2.txt", "Очередная вторая", "Текст.", 2)
        await say(fake, ADMIN, "/reload")
        answer = (await say(fake, ADMIN, "/post 1 silent pin"))[0].text
        assert "вне очереди во все цели (3), с закреплением, без звука" in answer
        await fake.settle(0.5)
        assert fake.sent_messages(channel(fake)) == []  # nothing while paused
        await say(fake, ADMIN, "/resume")
        news = await fake.wait_for_messages(channel(fake), 3)
        second = await fake.wait_for_messages(SECOND, 3)
        group = await fake.wait_for_messages(GROUP, 3)
        article = await app.app.search.article(1)
        assert article is not None
        article_1 = article.title.split("\n")[0]
        for posts in (news, second, group):  # /post's row jumps the queue that waited
            assert titles(fake, posts[0].chat_id) == [
                article_1,
                "Очередная первая",
                "Очередная вторая",
            ]
            assert posts[0].silent and not posts[1].silent
        await fake.wait_for_request("pinChatMessage", n=3)
        assert fake.chat("@news").pinned == [news[0].message_id]
        assert fake.chat(GROUP).pinned == [group[0].message_id]
        assert fake.chat(GROUP).pin_notices == []  # pinned silently: the members not notified
        [pin] = fake.calls("pinChatMessage", chat_id=channel(fake))
        assert pin.params["disable_notification"] in ("true", True)
        assert fake.chat("@second").pinned == [] and not second[0].deleted  # the post stays
        [note] = [m for m in await fake.wait_for_messages(ADMIN, 1) if "закрепить" in m.text]
        assert "@second" in note.text and "not enough rights" in note.text
        stats = await stats_of(fake)
        assert "@news: в очереди 0, отправлено 3, изменено 0, не удалось 0" in stats
        assert "@second: в очереди 0, отправлено 3, изменено 0, не удалось 1" in stats
        assert f"{GROUP}: в очереди 0, отправлено 3, изменено 0, не удалось 0" in stats
        assert "not enough rights" in stats  # among the latest failures
        await say(fake, ADMIN, "/post 2 pin")  # not silent: the group's members hear of the pin
        await fake.wait_for_request("pinChatMessage", n=6)
        loud = fake.last_message(GROUP)
        assert not loud.silent and fake.chat(GROUP).pin_notices == [loud.message_id]


async def test_a_pin_is_silent_when_its_post_was_a_silent_target_or_at_night(
    settings: Settings, tmp_path: Path, fake: FakeTelegram
) -> None:
    fake.add_chat(GROUP, "supergroup", title="Группа")
    quiet = fake.add_chat(GROUP - 1, "supergroup", title="Тихая группа").id
    cfg = with_targets(
        settings,
        tmp_path,
        f"[[target]]\nchat = {GROUP}\n\n[[target]]\nchat = {quiet}\nsilent = true\n",
    )
    cfg = replace(cfg, quiet_hours=parse_quiet_hours("23:00-07:00", MSK))
    now = [datetime(2025, 5, 21, 12, 0, tzinfo=MSK).timestamp()]
    async with running(cfg, fake, clock=lambda: now[0]):
        await say(fake, ADMIN, "/post 1 pin")  # by day: the silent target's post is silent
        [loud] = await fake.wait_for_messages(GROUP, 1)
        [hushed] = await fake.wait_for_messages(quiet, 1)
        await fake.wait_for_request("pinChatMessage", n=2)
        assert not loud.silent and fake.chat(GROUP).pin_notices == [loud.message_id]
        assert hushed.silent and fake.chat(quiet).pinned == [hushed.message_id]
        assert fake.chat(quiet).pin_notices == []  # so is its pin
        now[0] = datetime(2025, 5, 22, 2, 0, tzinfo=MSK).timestamp()  # QUIET_MODE=silent
        await say(fake, ADMIN, "/post 1 pin")
        night = (await fake.wait_for_messages(GROUP, 2))[1]
        await fake.wait_for_request("pinChatMessage", n=4)
        assert night.silent and fake.chat(GROUP).pinned[-1] == night.message_id
        assert fake.chat(GROUP).pin_notices == [loud.message_id]  # the night's pin is silent


async def test_a_version_5_database_opens_as_current_with_its_deliveries(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    await old_database(path, 5)
    old = await aiosqlite.connect(path)
    await old.execute(
        "INSERT INTO deliveries (article_id, chat_id, kind, status, created_at, sent_at, "
        "message_id, revision, shown, digest) "
        "VALUES (1, '@news', 'channel', 'sent', 1.0, 2.0, 42, 1, 'article', 'abc')"
    )
    await old.commit()
    await old.close()
    conn = await open_db(path)
    try:
        async with conn.execute("PRAGMA user_version") as cur:
            assert (await cur.fetchone())[0] == SCHEMA_VERSION == 7
        [row] = await outbox.all_deliveries(conn)
        assert (row.article_id, row.chat_id, row.kind, row.action, row.status) == (
            1,
            "@news",
            "channel",
            "send",
            "sent",
        )
        assert (row.message_id, row.revision, row.shown, row.digest) == (42, 1, "article", "abc")
        assert (row.topic, row.silent, row.pin, row.priority) == (None, False, False, 0)
        # each target (chat, topic) gets the article once: the old post counts for '@news'
        assert not await outbox.enqueue(conn, 1, "@news", "channel", now=3.0)
        assert await outbox.enqueue(conn, 1, "@news", "channel", now=3.0, topic=5)
        await conn.commit()
    finally:
        await conn.close()
