"""Admin commands through the real Dispatcher and fake server; refusals; subscription UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.config import Settings
from bot.store import outbox, state
from tests.fake_telegram import FakeTelegram
from tests.helpers import ADMIN, BotApp, channel, say, start_fast_bot, write_seed

STRANGER = 901


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    # a long interval: only /reload scans, so every effect here comes from a command
    return replace(
        settings,
        channel_id="@news",
        admin_ids=frozenset({ADMIN}),
        post_interval=3600,
        post_backlog=0,
    )


@pytest.fixture
async def app(cfg: Settings, fake: FakeTelegram) -> AsyncIterator[BotApp]:
    a = await start_fast_bot(cfg, fake)
    await fake.wait_for_request("getUpdates")
    yield a
    await a.stop()


async def test_admin_commands_work_for_admins(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    write_seed(cfg.seeds_dir, "new.txt", "Свежая новость", ["Текст."])
    (cfg.seeds_dir / "broken.txt").write_bytes(b"")
    [reply] = await say(fake, ADMIN, "/reload")
    assert "добавлено 1" in reply.text and "с ошибками 1" in reply.text
    assert "broken.txt" in reply.text and "empty" in reply.text
    await fake.wait_for_messages(channel(fake), 1)
    [again] = await say(fake, ADMIN, "/reload")  # still broken: still named
    assert "добавлено 0" in again.text and "broken.txt" in again.text

    stats = (await say(fake, ADMIN, "/stats"))[0].text
    assert "Статей: 2" in stats and "Отправлено: 1" in stats and "публикация идёт" in stats
    assert "Последний пост в канал: ещё не было" not in stats

    assert "приостановлена" in (await say(fake, ADMIN, "/pause"))[0].text
    assert await state.paused(app.conn)
    post_id = (await outbox.all_deliveries(app.conn))[0].article_id
    assert "приостановлена" in (await say(fake, ADMIN, f"/post {post_id}"))[0].text
    assert "приостановлен" in (await say(fake, ADMIN, "/stats"))[0].text
    await fake.settle(0.5)
    assert len(fake.sent_messages(channel(fake))) == 1
    assert "возобновлена" in (await say(fake, ADMIN, "/resume"))[0].text
    await fake.wait_for_messages(channel(fake), 2)
    assert "Статьи 999999 нет" in (await say(fake, ADMIN, "/post 999999"))[0].text
    huge = "9" * 20  # past SQLite's integers: still just a missing article
    for command in (f"/post {huge}", f"/post {huge} pin silent", f"/preview {huge}"):
        assert f"Статьи {huge} нет" in (await say(fake, ADMIN, command))[0].text
    assert "Использование" in (await say(fake, ADMIN, "/post abc"))[0].text
    fake.assert_clean()


async def test_others_get_a_refusal_and_nothing_happens(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    write_seed(cfg.seeds_dir, "new.txt", "Свежая новость", ["Текст."])
    for command in ("/reload", "/stats", "/pause", "/resume", "/post 1"):
        [reply] = await say(fake, STRANGER, command)
        assert reply.text == "Эта команда только для администраторов бота."
    for command in ("/stats", "/preview 1", "/pending"):  # a reader's reply: in their language
        [reply] = await say(fake, STRANGER, command, lang="en")
        assert reply.text == "This command is for the bot's admins only."
    await fake.settle(0.5)
    assert await outbox.all_deliveries(app.conn) == []
    async with app.conn.execute("SELECT count(*) FROM articles") as cur:
        assert (await cur.fetchone())[0] == 1  # the new file was not even scanned
    assert await state.paused(app.conn) is None
    assert fake.sent_messages(channel(fake)) == []


async def test_stats_without_a_channel(settings: Settings, fake: FakeTelegram) -> None:
    cfg = replace(settings, admin_ids=frozenset({ADMIN}), post_interval=3600)
    app = await start_fast_bot(cfg, fake)
    try:
        stats = (await say(fake, ADMIN, "/stats"))[0].text
        assert "не настроен" in stats
        assert "Готово" in (await say(fake, 5, "/subscribe"))[0].text  # subscriptions still work
    finally:
        await app.stop()


async def test_subscriptions_list_remove_and_groups(app: BotApp, fake: FakeTelegram) -> None:
    await say(fake, 7, "/subscribe")
    await say(fake, 7, "/subscribe учения")
    assert "нет слов" in (await say(fake, 7, "/subscribe !!!"))[0].text
    [listing] = await say(fake, 7, "/subscriptions")
    assert "все новые статьи" in listing.text and "«учения»" in listing.text
    data = [b["callback_data"] for b in listing.buttons]
    assert len(data) == 2 and all(len(d.encode()) <= 64 for d in data)
    update = fake.push_callback(7, data[1])
    answer = await fake.wait_for_callback_answer(update)
    assert answer["text"] == "Подписка удалена"
    await fake.settle(0.3)
    assert "учения" not in fake.message(7, listing.message_id).text
    assert "(1)" in (await say(fake, 7, "/unsubscribe"))[0].text
    assert "Подписок нет" in (await say(fake, 7, "/subscriptions"))[0].text
    mark = fake.mark()
    fake.push_message(-500, user_id=8, text="/subscribe")
    [group_reply] = await fake.wait_for_messages(-500, 1, since=mark)
    assert "личном чате" in group_reply.text
    fake.assert_clean()
