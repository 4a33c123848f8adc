"""Withdrawals and returns follow the article, end to end, in each WITHDRAWN_POSTS mode: seed
files removed and written back, the real wiring, the fake Bot API server on a virtual clock (so
the 48-hour deletion limit can be crossed without waiting)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings, WithdrawnPosts
from bot.store import outbox
from bot.store.db import write_lock
from tests.fake_telegram import FakeTelegram, Limits, VirtualClock
from tests.helpers import (
    ADMIN,
    BotApp,
    delivery_settings,
    say,
    start_delivery_bot,
    wait_until,
    write_seed,
)

READER = 101
HOURS = 3600.0
NOTICE = "Материал снят с публикации редакцией."


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake server on a clock the test moves (no flood limits: virtual time stands still)."""
    server = FakeTelegram(clock=VirtualClock(), limits=Limits.off())
    server.add_channel("news")
    async with server:
        yield server


@pytest.fixture
async def app(
    request: pytest.FixtureRequest, settings: Settings, fake: FakeTelegram
) -> AsyncIterator[BotApp]:
    """The bot with WITHDRAWN_POSTS = the test's parameter."""
    mode: WithdrawnPosts = request.param
    a = await start_delivery_bot(delivery_settings(settings, mode), fake)
    yield a
    await a.stop()


def mode(name: WithdrawnPosts) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("app", [name], indirect=True)


def news(fake: FakeTelegram) -> int:
    return int(fake.chat("@news").id)


async def post_one(fake: FakeTelegram, seeds: Path) -> tuple[Path, int, int]:
    """A subscriber, a new article; (its file, channel message id, alert message id)."""
    await say(fake, READER, "/subscribe")
    path = write_seed(seeds, "w.txt", "Снимаемая статья", ["Первый абзац.", "Второй абзац."])
    [post] = await fake.wait_for_messages(news(fake), 1, timeout=10)
    [_, alert] = await fake.wait_for_messages(READER, 2, timeout=10)
    return path, post.message_id, alert.message_id


async def done(app: BotApp, n: int) -> None:
    """Wait until ``n`` follow-ups are finished (sent, skipped or failed)."""

    async def check() -> bool:
        rows = await outbox.all_deliveries(app.conn)
        return sum(d.action == "edit" and d.status != "queued" for d in rows) >= n

    await wait_until(check, timeout=10)


@mode("notice")
async def test_notice_then_return(app: BotApp, fake: FakeTelegram) -> None:
    path, mid, alert = await post_one(fake, app.settings.seeds_dir)
    text = path.read_text("utf-8")
    path.unlink()
    await fake.wait_for(lambda: fake.message(news(fake), mid).text == NOTICE, timeout=10)
    await fake.wait_for(lambda: fake.message(READER, alert).text == NOTICE, timeout=10)
    post = fake.message(news(fake), mid)
    assert post.buttons == [] and "абзац" not in post.html
    assert fake.message(READER, alert).buttons == []  # nothing left that opens the article
    path.write_text(text, "utf-8")  # the file comes back: same article, same post
    await fake.wait_for(
        lambda: fake.message(news(fake), mid).text.startswith("Снимаемая статья"), timeout=10
    )
    await done(app, 4)
    await fake.settle(0.5)
    assert "Второй абзац." in fake.message(news(fake), mid).text
    assert fake.message(READER, alert).buttons  # the alert's «Читать полностью» is back
    assert len(fake.sent_messages(news(fake))) == 1 and len(fake.sent_messages(READER)) == 2
    assert fake.calls("deleteMessage") == []
    fake.assert_clean()


@mode("delete")
async def test_delete_while_young_then_return_posts_once_more(
    app: BotApp, fake: FakeTelegram
) -> None:
    path, mid, alert = await post_one(fake, app.settings.seeds_dir)
    text = path.read_text("utf-8")
    fake.clock.advance(47 * HOURS)  # type: ignore[attr-defined]
    path.unlink()
    await fake.wait_for(lambda: fake.message(news(fake), mid).deleted, timeout=10)
    await fake.wait_for(lambda: fake.message(READER, alert).deleted, timeout=10)
    assert fake.edits == []
    path.write_text(text, "utf-8")
    [_, again] = await fake.wait_for_messages(news(fake), 2, timeout=10)
    await done(app, 4)
    await fake.settle(0.5)
    assert again.text.startswith("Снимаемая статья")  # posted once more: its only way back
    assert len(fake.sent_messages(news(fake), include_deleted=False)) == 1
    assert len(fake.sent_messages(READER)) == 2  # a reader is not alerted twice
    rows = await outbox.all_deliveries(app.conn)
    assert rows[0].kind == "channel" and rows[0].message_id == again.message_id
    fake.assert_clean()


@mode("delete")
async def test_delete_past_48_hours_falls_back_to_the_notice(
    app: BotApp, fake: FakeTelegram
) -> None:
    path, mid, alert = await post_one(fake, app.settings.seeds_dir)
    fake.clock.advance(48 * HOURS)  # type: ignore[attr-defined]
    path.unlink()  # the bot's clock says "young": Telegram's says no
    await fake.wait_for(lambda: fake.message(news(fake), mid).text == NOTICE, timeout=10)
    await fake.wait_for(lambda: fake.message(READER, alert).text == NOTICE, timeout=10)
    refused = fake.calls("deleteMessage", ok=False)
    assert {r.description for r in refused} == {"Bad Request: message can't be deleted"}
    assert len(refused) == 2 and not fake.message(news(fake), mid).deleted
    fake.assert_clean()


@mode("delete")
async def test_delete_of_a_post_the_bot_knows_is_old_is_not_even_tried(
    app: BotApp, fake: FakeTelegram
) -> None:
    path, mid, _ = await post_one(fake, app.settings.seeds_dir)
    async with write_lock(app.conn):  # the post went out 49 hours ago by the bot's clock
        await app.conn.execute(
            "UPDATE deliveries SET sent_at = :t WHERE kind = 'channel'",
            {"t": time.time() - 49 * HOURS},
        )
    path.unlink()
    await fake.wait_for(lambda: fake.message(news(fake), mid).text == NOTICE, timeout=10)
    await done(app, 2)
    assert [r.chat_id for r in fake.calls("deleteMessage")] == [READER]  # the alert only
    fake.assert_clean()


@mode("keep")
async def test_keep_leaves_the_post_and_queued_sends_are_cancelled(
    app: BotApp, fake: FakeTelegram
) -> None:
    path, mid, alert = await post_one(fake, app.settings.seeds_dir)
    await say(fake, ADMIN, "/pause")
    late = write_seed(app.settings.seeds_dir, "late.txt", "Поздняя", ["Текст."])

    async def queued() -> bool:
        rows = await outbox.all_deliveries(app.conn)
        return any(d.status == "queued" and d.kind == "channel" for d in rows)

    await wait_until(queued, timeout=10)
    await fake.wait_for_messages(READER, 3, timeout=10)  # alerts go on while paused
    path.unlink()
    late.unlink()

    async def cancelled() -> bool:
        rows = await outbox.all_deliveries(app.conn)
        return [d.status for d in rows if d.kind == "channel"] == ["sent", "cancelled"]

    await wait_until(cancelled, timeout=10)
    await say(fake, ADMIN, "/resume")
    await fake.settle(1.0)
    assert fake.message(news(fake), mid).text.startswith("Снимаемая статья")
    assert fake.message(READER, alert).text.startswith("Снимаемая статья")
    assert fake.edits == [] and fake.calls("deleteMessage") == []
    assert len(fake.sent_messages(news(fake))) == 1  # the withdrawn late article never went
    fake.assert_clean()
