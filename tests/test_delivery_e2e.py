"""End to end: the real Dispatcher + Bot + scheduler against the fake Bot API server over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.config import Settings
from bot.store import outbox, state
from bot.store import targets as targets_store
from tests import fake_telegram
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    FAST,
    BotApp,
    channel,
    delivery_settings,
    say,
    start_delivery_bot,
    start_fast_bot,
    wait_until,
    write_seed,
)


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return delivery_settings(settings)


@pytest.fixture
async def app(cfg: Settings, fake: FakeTelegram) -> AsyncIterator[BotApp]:
    a = await start_delivery_bot(cfg, fake)
    yield a
    await a.stop()


async def test_new_seed_reaches_channel_and_matching_subscribers_once(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    assert "Готово" in (await say(fake, 101, "/subscribe"))[0].text
    assert "учения" in (await say(fake, 102, "/subscribe учения"))[0].text
    await say(fake, 102, "/subscribe армия")  # also matches: still one alert
    await say(fake, 103, "/subscribe погода")
    write_seed(
        cfg.seeds_dir,
        "new.txt",
        "Армия начала манёвры",
        ["Начались манёвры.", "В учениях участвуют тысячи военных."],
    )
    [post] = await fake.wait_for_messages(channel(fake), 1)
    await fake.wait_for_messages(101, 2)
    await fake.wait_for_messages(102, 3)
    await fake.settle(0.8)
    assert post.html.startswith("<b>Армия начала манёвры</b>")
    assert "тысячи военных" in post.text
    req = fake.calls("sendMessage", chat_id=channel(fake))[0]
    assert req.params["link_preview_options"] == {"is_disabled": True}
    assert len(fake.sent_messages(channel(fake))) == 1
    for chat in (101, 102):
        alert = fake.sent_messages(chat)[-1]
        assert alert.text.startswith("Армия начала манёвры")
        assert alert.buttons[0]["url"].startswith("https://t.me/fake_news_bot?start=a_")
    assert len(fake.sent_messages(102)) == 3 and len(fake.sent_messages(103)) == 1
    fake.assert_clean()


async def test_channel_429_is_obeyed_and_the_post_arrives_once(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    fake.fail_next("429", method="sendMessage", chat_id="@news", retry_after=1)
    write_seed(cfg.seeds_dir, "a.txt", "Первая новость", ["Текст."])
    write_seed(cfg.seeds_dir, "b.txt", "Вторая новость", ["Текст."], date="22 мая 2025 г. 10:00")
    posts = await fake.wait_for_messages(channel(fake), 2, timeout=6)
    tries = fake.calls("sendMessage", chat_id=channel(fake))
    assert tries[0].status == 429
    assert tries[1].time - tries[0].time >= 1.0
    await fake.settle(0.5)
    assert [p.text.split("\n")[0] for p in fake.sent_messages(channel(fake))] == [
        "Первая новость",
        "Вторая новость",
    ]
    assert len(posts) == 2
    fake.assert_no_retry_violations()
    fake.assert_clean()


async def test_server_errors_and_dropped_connections_are_retried(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    fake.fail_next("500", method="sendMessage", chat_id="@news", times=2)
    fake.fail_next("drop", method="sendMessage", chat_id="@news")
    fake.fail_next("502", method="sendMessage", chat_id="@news")
    write_seed(cfg.seeds_dir, "a.txt", "Новость после сбоев", ["Текст."])
    await fake.wait_for_messages(channel(fake), 1, timeout=8)
    await fake.settle(0.5)
    assert len(fake.sent_messages(channel(fake))) == 1
    assert len(fake.calls("sendMessage", chat_id=channel(fake))) == 5
    [row] = [d for d in await outbox.all_deliveries(app.conn) if d.kind == "channel"]
    assert row.status == "sent" and row.attempts == 5


async def test_blocked_subscriber_is_removed_and_others_still_get_it(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    await say(fake, 201, "/subscribe")
    await say(fake, 202, "/subscribe")
    fake.block_chat(201)
    write_seed(cfg.seeds_dir, "a.txt", "Новость для всех", ["Текст."])
    await fake.wait_for_messages(202, 2)
    await wait_until(lambda: _no_subscriptions(app, 201))
    write_seed(cfg.seeds_dir, "b.txt", "Ещё новость", ["Текст."], date="22 мая 2025 г. 10:00")
    await fake.wait_for_messages(202, 3)
    await fake.settle(0.5)
    assert len(fake.calls("sendMessage", chat_id=201)) == 2  # the reply, then one 403: no more
    assert fake.sends_after_permanent_error == []
    assert len(fake.sent_messages(channel(fake))) == 2


async def _no_subscriptions(app: BotApp, chat: int) -> bool:
    async with app.conn.execute(
        "SELECT count(*) FROM subscriptions WHERE chat_id=?", (chat,)
    ) as c:
        return (await c.fetchone())[0] == 0


async def test_channel_refusal_pauses_and_tells_admins(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    fake.remove_bot("@news")
    write_seed(cfg.seeds_dir, "a.txt", "Новость в закрытый канал", ["Текст."])
    [note] = await fake.wait_for_messages(ADMIN, 1)
    assert "приостановлена" in note.text and "not a member" in note.text
    assert "not a member" in (await targets_store.paused(app.conn))["@news|"]
    stats = (await say(fake, ADMIN, "/stats"))[0].text
    assert "приостановлен" in stats and "в канал 1" in stats
    fake.restore_chat("@news")
    await say(fake, ADMIN, "/resume")
    await fake.wait_for_messages(channel(fake), 1)
    assert fake.sends_after_permanent_error == []


async def test_post_backlog_on_a_fresh_database(settings: Settings, fake: FakeTelegram) -> None:
    for i in range(6):
        write_seed(
            settings.seeds_dir,
            f"b{i}.txt",
            f"Архивная новость {i}",
            ["Текст."],
            date=f"{10 + i} мая 2025 г. 10:00",
        )
    cfg = replace(settings, channel_id="@news", post_backlog=3, post_interval=0.3)
    app = await start_fast_bot(cfg, fake)
    try:
        # the real seed (21 May) is the newest; then 15 and 14 May
        await fake.wait_for_messages(channel(fake), 3)
        await fake.settle(0.8)
        titles = [m.text.split("\n")[0] for m in fake.sent_messages(channel(fake))]
        assert titles[:2] == ["Архивная новость 4", "Архивная новость 5"]
        assert titles[2].startswith("В России назвали Беларусь") and len(titles) == 3
        assert await outbox.unannounced(app.conn) == []
    finally:
        await app.stop()


async def test_burst_of_30_is_paced_without_a_single_429(settings: Settings) -> None:
    limits = fake_telegram.Limits(
        group_per_window=20, group_window=3.0, per_chat_rate=20.0, per_chat_burst=1
    )
    pacing = replace(FAST, group_limit=20, group_window=3.0, chat_interval=0.05)
    async with fake_telegram.FakeTelegram(limits=limits) as fake:
        fake.add_channel("news")
        cfg = replace(settings, channel_id="@news", post_backlog=0, post_interval=0.3)
        app = await start_fast_bot(cfg, fake, pacing)
        try:
            await fake.wait_for_request("getUpdates")
            for i in range(30):
                write_seed(
                    settings.seeds_dir,
                    f"burst{i:02d}.txt",
                    f"Срочная новость {i:02d}",
                    ["Текст."],
                    date=f"1 июня 2025 г. 10:{i:02d}",
                )
            posts = await fake.wait_for_messages(channel(fake), 30, timeout=15)
        finally:
            await app.stop()
    assert [p.text.split("\n")[0] for p in posts] == [
        f"Срочная новость {i:02d}" for i in range(30)
    ]
    assert fake.rate_limited == [] and fake.retry_violations == []
    times = [p.time for p in posts]
    assert all(b - a >= 3.0 for a, b in zip(times, times[20:], strict=False))


async def test_group_migration_is_followed(settings: Settings, fake: FakeTelegram) -> None:
    fake.add_chat(-500, "group", title="Newsroom")
    new_id = fake.migrate_chat(-500)
    cfg = replace(settings, channel_id="-500", post_backlog=0, post_interval=0.3)
    app = await start_fast_bot(cfg, fake)
    try:
        await fake.wait_for_request("getUpdates")
        write_seed(cfg.seeds_dir, "a.txt", "Новость в группу", ["Текст."])
        await fake.wait_for_messages(new_id, 1)
        write_seed(cfg.seeds_dir, "b.txt", "Вторая", ["Текст."], date="22 мая 2025 г. 10:00")
        await fake.wait_for_messages(new_id, 2)
        await fake.settle(0.5)
        assert len(fake.calls("sendMessage", chat_id=-500)) == 1  # one 400, then the new id
        assert fake.sends_after_permanent_error == []
        assert await state.resolve_chat(app.conn, "-500") == str(new_id)
    finally:
        await app.stop()
