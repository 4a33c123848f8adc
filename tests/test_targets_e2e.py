"""Several targets end to end (issue 13 §4): keyword rules, forum topics, a target paused alone
by a 403 or a deleted topic while the others go on, corrections following every target's post
(each with its own template), /resume of one target, and /stats per target."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.store import state
from bot.store import targets as targets_store
from bot.targets import load_targets
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    BotApp,
    channel,
    delivery_settings,
    say,
    start_fast_bot,
    wait_until,
    write_seed,
)

FORUM = -1002000000001
SECOND = -1001000000002
MARKER = "<b>{{ title }}</b>\n{{ lead }}\nFORUM-MARKER"


def with_targets(settings: Settings, tmp_path: Path, toml: str) -> Settings:
    """Delivery settings with this targets file (CHANNEL_ID @news stays set: the file wins)."""
    path = tmp_path / "targets.toml"
    path.write_text(toml, encoding="utf-8")
    return replace(delivery_settings(settings), targets_file=path, targets=load_targets(path))


@contextlib.asynccontextmanager
async def running(
    cfg: Settings, fake: FakeTelegram, clock: Callable[[], float] = time.time
) -> AsyncIterator[BotApp]:
    """The bot (FAST pacing) polling ``fake``, once its first tick has announced the seeds
    already there (none of them is posted); the fake's behaviour checks pass at the end."""
    app = await start_fast_bot(cfg, fake, clock=clock)
    try:

        async def backlog_done() -> bool:
            return await state.get(app.conn, state.BACKLOG_DONE) is not None

        await fake.wait_for_request("getUpdates")
        await wait_until(backlog_done)
        yield app
        fake.assert_clean()
    finally:
        await app.stop()


async def stats_of(fake: FakeTelegram) -> str:
    """The admin's /stats answer."""
    return (await say(fake, ADMIN, "/stats"))[0].text


def seed(cfg: Settings, name: str, title: str, text: str, hour: int) -> None:
    """A seed file published on 22 May 2025 at ``hour``:00."""
    write_seed(cfg.seeds_dir, name, title, [text], date=f"22 мая 2025 г. {hour:02d}:00")


def titles(fake: FakeTelegram, chat: int) -> list[str]:
    return [m.text.split("\n")[0] for m in fake.sent_messages(chat)]


@pytest.fixture
async def forum(fake: FakeTelegram) -> AsyncIterator[int]:
    """A forum supergroup with topics on; yields the topic «Беларусь»'s message_thread_id."""
    fake.add_forum(FORUM, "Форум")
    yield fake.add_topic(FORUM, "Беларусь")


async def test_two_targets_a_keyword_rule_and_a_topic(
    settings: Settings,
    tmp_path: Path,
    fake: FakeTelegram,
    forum: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = with_targets(
        settings,
        tmp_path,
        f'[[target]]\nchat = "@news"\n\n[[target]]\nchat = {FORUM}\ntopic = {forum}\n'
        'keywords = ["Беларусь"]\n',
    )
    async with running(cfg, fake):
        seed(cfg, "x1.txt", "Погода на выходные", "Будет тепло.", 10)
        seed(cfg, "x2.txt", "Визит в Беларусь", "Делегация прибыла в Минск.", 9)
        seed(cfg, "x3.txt", "Соглашение с Беларусью", "Подписано соглашение.", 11)
        await fake.wait_for_messages(channel(fake), 3)
        await fake.wait_for_messages(FORUM, 2)
        await fake.settle(0.5)
        # each target gets exactly its articles, once, in date order
        assert titles(fake, channel(fake)) == [
            "Визит в Беларусь",
            "Погода на выходные",
            "Соглашение с Беларусью",
        ]
        assert titles(fake, FORUM) == ["Визит в Беларусь", "Соглашение с Беларусью"]
        for m in fake.sent_messages(FORUM):
            assert m.extra["message_thread_id"] == forum and m.extra["is_topic_message"]
        for r in fake.calls("sendMessage", chat_id=FORUM):
            assert r.params["message_thread_id"] == str(forum)
        to_news = fake.calls("sendMessage", chat_id=channel(fake))
        assert all("message_thread_id" not in r.params for r in to_news)
        stats = await stats_of(fake)
        assert "@news: в очереди 0, отправлено 3, изменено 0, не удалось 0" in stats
        assert f"{FORUM} (тема {forum}): в очереди 0, отправлено 2" in stats
    ignored = [r for r in caplog.records if "CHANNEL_ID (@news) is ignored" in r.getMessage()]
    assert len(ignored) == 1  # the file wins over CHANNEL_ID, said once


async def test_corrections_follow_every_targets_post_with_its_template(
    settings: Settings, tmp_path: Path, fake: FakeTelegram, forum: int
) -> None:
    (tmp_path / "forum.html").write_text(MARKER, encoding="utf-8")
    cfg = with_targets(
        settings,
        tmp_path,
        f'[[target]]\nchat = "@news"\n\n[[target]]\nchat = {FORUM}\ntopic = {forum}\n'
        'template = "forum.html"\n',
    )
    async with running(cfg, fake):
        write_seed(cfg.seeds_dir, "c.txt", "Новость для двоих", ["Первая версия текста."])
        [news_post] = await fake.wait_for_messages(channel(fake), 1)
        [forum_post] = await fake.wait_for_messages(FORUM, 1)
        assert forum_post.html.endswith("FORUM-MARKER") and "FORUM-MARKER" not in news_post.html
        write_seed(cfg.seeds_dir, "c.txt", "Новость для двоих", ["Исправленная версия текста."])
        await fake.wait_for(lambda: news_post.edit_date and forum_post.edit_date)
        await fake.settle(0.5)
        assert "Исправленная" in news_post.text and "Исправленная" in forum_post.text
        assert forum_post.html.endswith("FORUM-MARKER")  # the edit keeps this target's template
        assert "FORUM-MARKER" not in news_post.html
        assert len(fake.sent_messages(channel(fake))) == 1 and len(fake.sent_messages(FORUM)) == 1
        stats = await stats_of(fake)
        assert "@news: в очереди 0, отправлено 1, изменено 1, не удалось 0" in stats
        assert f"(тема {forum}): в очереди 0, отправлено 1, изменено 1" in stats


async def test_a_kicked_target_is_paused_alone_and_resumed(
    settings: Settings, tmp_path: Path, fake: FakeTelegram
) -> None:
    fake.add_channel("second", SECOND, "Второй канал")
    cfg = with_targets(
        settings, tmp_path, '[[target]]\nchat = "@news"\n\n[[target]]\nchat = "@second"\n'
    )
    async with running(cfg, fake) as app:
        fake.kick_bot("@news")
        seed(cfg, "k1.txt", "Первая после исключения", "Текст.", 9)
        await fake.wait_for_messages(SECOND, 1)
        [note] = await fake.wait_for_messages(ADMIN, 1)
        assert "@news" in note.text and "приостановлена" in note.text and "kicked" in note.text
        assert await state.paused(app.conn) is None  # not all posting: only @news
        assert list(await targets_store.paused(app.conn)) == ["@news|"]
        seed(cfg, "k2.txt", "Вторая после исключения", "Текст.", 10)
        await fake.wait_for_messages(SECOND, 2)  # the other target keeps posting
        await fake.settle(0.5)
        assert len(fake.calls("sendMessage", chat_id=channel(fake))) == 1  # tried once only
        stats = await stats_of(fake)
        assert "@news: в очереди 2, отправлено 0" in stats and "приостановлена" in stats
        assert "@second: в очереди 0, отправлено 2" in stats
        unknown = (await say(fake, ADMIN, "/resume @nowhere"))[0].text
        assert "нет среди целей" in unknown
        fake.restore_chat("@news")
        assert "возобновлена" in (await say(fake, ADMIN, "/resume @news"))[0].text
        await fake.wait_for_messages(channel(fake), 2)
        assert titles(fake, channel(fake)) == [
            "Первая после исключения",
            "Вторая после исключения",
        ]
        assert await targets_store.paused(app.conn) == {}
        again = (await say(fake, ADMIN, "/resume @news"))[0].text
        assert "не была приостановлена" in again


async def test_a_deleted_topic_pauses_its_target(
    settings: Settings, tmp_path: Path, fake: FakeTelegram, forum: int
) -> None:
    cfg = with_targets(
        settings,
        tmp_path,
        f'[[target]]\nchat = "@news"\n\n[[target]]\nchat = {FORUM}\ntopic = {forum}\n',
    )
    async with running(cfg, fake) as app:
        fake.delete_topic(FORUM, forum)
        write_seed(cfg.seeds_dir, "t1.txt", "В удалённую тему", ["Текст."])
        [note] = await fake.wait_for_messages(ADMIN, 1)
        assert f"{FORUM} (тема {forum}) приостановлена" in note.text  # named in Russian
        assert "message thread not found" in note.text and "topic" not in note.text
        await fake.wait_for_messages(channel(fake), 1)
        write_seed(cfg.seeds_dir, "t2.txt", "Снова в канал", ["Текст."])
        await fake.wait_for_messages(channel(fake), 2)
        await fake.settle(0.5)
        assert fake.sent_messages(FORUM) == []
        assert len(fake.calls("sendMessage", chat_id=FORUM)) == 1  # paused after one refusal
        assert list(await targets_store.paused(app.conn)) == [f"{FORUM}|{forum}"]
        stats = await stats_of(fake)
        assert f"{FORUM} (тема {forum}): в очереди 2, отправлено 0" in stats
        assert "приостановлена: 400 Bad Request: message thread not found" in stats


async def test_a_silent_group_target_stays_silent_with_its_template_after_it_migrates(
    settings: Settings, tmp_path: Path, fake: FakeTelegram
) -> None:
    new_id = fake.migrate_chat(-500)  # a group that Telegram upgraded to a supergroup
    (tmp_path / "group.html").write_text(MARKER, encoding="utf-8")
    toml = '[[target]]\nchat = -500\nsilent = true\ntemplate = "group.html"\n'
    cfg = with_targets(settings, tmp_path, toml)
    async with running(cfg, fake) as app:
        seed(cfg, "m1.txt", "До переезда группы", "Текст.", 9)
        [first] = await fake.wait_for_messages(new_id, 1)
        assert first.silent and "FORUM-MARKER" in first.text
        await app.stop()
    async with running(cfg, fake):  # after a restart too: the migration is remembered
        seed(cfg, "m2.txt", "После перезапуска", "Текст.", 10)
        [_, second] = await fake.wait_for_messages(new_id, 2)
        assert second.silent and "FORUM-MARKER" in second.text
