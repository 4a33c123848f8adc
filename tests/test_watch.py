"""Files as scrapers write them, through the real bot wiring (build_app with the seeds watcher)
against the fake server: noticed at once, posted once settled, one article whatever the name.

POST_INTERVAL is an hour here, so only filesystem notifications can explain a post."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.services.watch import Watcher
from bot.store import articles
from tests.fake_telegram import FakeTelegram
from tests.helpers import BotApp, channel, say, seed_text, start_fast_bot

SETTLE = 1.0
READER = 4242


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return replace(
        settings, channel_id="@news", post_interval=3600, post_backlog=0, settle_seconds=SETTLE
    )


@pytest.fixture
async def bot(cfg: Settings, fake: FakeTelegram) -> AsyncIterator[BotApp]:
    b = await start_fast_bot(cfg, fake, watch=True)
    await fake.wait_for_request("getUpdates")
    await asyncio.sleep(0.3)  # the first tick (the backlog: nothing posted) and the watch start
    yield b
    await b.stop()
    fake.assert_clean()


TITLE = "Учения Щит Союза начались в Беларуси"
PARAS = ["Военные двух стран начали совместные учения.", "Они продлятся неделю.", "Итоги — в мае."]


async def post_of_new_file(fake: FakeTelegram, path: Path, text: str) -> tuple[float, str]:
    """Write ``text`` to ``path`` as one write; seconds until the channel post, and its text."""
    loop = asyncio.get_running_loop()
    mark = fake.mark()
    path.write_text(text, encoding="utf-8")
    started = loop.time()
    [post] = await fake.wait_for_messages(channel(fake), 1, since=mark, timeout=SETTLE + 2)
    return loop.time() - started, post.text


async def test_idle_bot_posts_a_new_file_within_settle_plus_two_seconds(
    bot: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    took, text = await post_of_new_file(fake, cfg.seeds_dir / "new.txt", seed_text(TITLE, PARAS))
    assert TITLE in text
    assert took >= SETTLE - 0.1  # not before it settled
    await asyncio.sleep(SETTLE + 0.5)
    assert len(fake.sent_messages(channel(fake))) == 1


async def test_a_file_written_in_two_parts_is_posted_once_and_whole(
    bot: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    text = seed_text(TITLE, PARAS)
    cut = text.index(PARAS[1])
    path = cfg.seeds_dir / "two-parts.txt"
    mark = fake.mark()
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text[:cut])  # title and the lead: a valid article on its own
        fh.flush()
        await asyncio.sleep(SETTLE / 2)  # the scraper pauses, shorter than SETTLE_SECONDS
        fh.write(text[cut:])
    [post] = await fake.wait_for_messages(channel(fake), 1, since=mark, timeout=SETTLE + 3)
    await asyncio.sleep(SETTLE + 0.5)
    assert len(fake.sent_messages(channel(fake), since=mark)) == 1
    assert PARAS[0] in post.text  # the lead; the article page has the rest
    [article] = await articles.latest(bot.conn, offset=0, limit=1)
    full = await articles.get_article(bot.conn, article.id)
    assert full is not None and full.body == tuple(PARAS[1:])


async def test_rename_move_and_copy_give_one_post_and_one_search_hit(
    bot: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    seeds = cfg.seeds_dir
    await post_of_new_file(fake, seeds / "page.txt", seed_text(TITLE, PARAS))
    [first] = await articles.latest(bot.conn, offset=0, limit=1)
    os.rename(seeds / "page.txt", seeds / "page-renamed.txt")
    await asyncio.sleep(0.5)
    (seeds / "2025" / "05").mkdir(parents=True)
    os.rename(seeds / "page-renamed.txt", seeds / "2025" / "05" / "page.txt")
    shutil.copy(seeds / "2025" / "05" / "page.txt", seeds / "page (copy).txt")
    await asyncio.sleep(2 * SETTLE + 1.5)  # every name settled, the old ones gone for good
    assert len(fake.sent_messages(channel(fake))) == 1
    assert [a.id for a in await articles.latest(bot.conn, offset=0, limit=10)].count(first.id) == 1
    [reply] = await say(fake, READER, "/search Щит Союза")
    assert "Найдено: 1" in reply.text
    assert await articles.get_article(bot.conn, first.id) is not None


async def test_a_sidebar_only_change_changes_nothing(
    bot: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    path = cfg.seeds_dir / "page.txt"
    await post_of_new_file(fake, path, seed_text(TITLE, PARAS))
    mark = fake.mark()
    path.write_text(seed_text(TITLE, PARAS) + "Популярное\nДругая новость дня\n", encoding="utf-8")
    await asyncio.sleep(SETTLE + 1.5)
    assert fake.calls(since=mark, chat_id=channel(fake)) == []
    [article] = await articles.latest(bot.conn, offset=0, limit=1)
    full = await articles.get_article(bot.conn, article.id)
    assert full is not None and full.revision == 1


async def test_a_deleted_file_leaves_the_reader_commands_after_the_settle_time(
    bot: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    path = cfg.seeds_dir / "page.txt"
    await post_of_new_file(fake, path, seed_text(TITLE, PARAS))
    path.unlink()
    await asyncio.sleep(SETTLE / 2)
    # A quoted phrase: forgiving search would otherwise complete «Союза» into the real seed's
    # «Союзного» and find that article instead.
    assert "Найдено: 1" in (await say(fake, READER, '/search "Щит Союза"'))[0].text
    await asyncio.sleep(SETTLE + 1.5)
    [reply] = await say(fake, READER, '/search "Щит Союза"')
    assert "Найдено" not in reply.text


async def test_without_notifications_the_log_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    woken: list[int] = []
    watcher = Watcher(tmp_path / "missing", lambda: woken.append(1))
    with caplog.at_level(logging.WARNING, logger="bot.services.watch"):
        await asyncio.wait_for(watcher.run(), 5)
    [record] = caplog.records
    assert "unavailable" in record.getMessage() and "POST_INTERVAL" in record.getMessage()
    assert woken == [] and not watcher.active


async def test_the_watcher_ignores_hidden_and_other_files(tmp_path: Path) -> None:
    woken: list[int] = []
    watcher = Watcher(tmp_path, lambda: woken.append(1), debounce_ms=100)
    task = asyncio.create_task(watcher.run())
    await asyncio.sleep(0.3)
    (tmp_path / ".draft.txt").write_text("x")
    (tmp_path / "image.jpg").write_bytes(b"x")
    await asyncio.sleep(0.6)
    assert woken == []
    (tmp_path / "a.TXT").write_text("x")
    for _ in range(40):
        if woken:
            break
        await asyncio.sleep(0.05)
    watcher.stop()
    await asyncio.wait_for(task, 5)
    assert woken
