"""Approval before posting, end to end: the real wiring (build_app, scheduler, deliverer,
aiogram Dispatcher and Bot) and the fake Bot API server; two admins decide by button."""

from __future__ import annotations

import asyncio
import time

import aiosqlite
import pytest

from bot.config import ApprovalDefault, Settings
from bot.store import approvals, outbox
from tests.approval_helpers import (
    ADMIN2,
    READER,
    RU_BUTTONS,
    STRANGER,
    approval_bot,
    decided,
    labels,
    new_article,
)
from tests.fake_telegram import FakeTelegram
from tests.helpers import ADMIN, channel, say, wait_until, write_seed


async def test_publish_posts_exactly_the_preview_and_edits_both_previews(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        await say(fake, READER, "/subscribe")
        first, second = await new_article(fake, cfg)
        shown = (first.html, [b for b in first.buttons if "callback_data" not in b])
        assert labels(first) == labels(second) == RU_BUTTONS
        assert first.html == second.html and not first.silent
        await fake.settle(0.8)  # a tick and a delivery pass: nothing goes out undecided
        assert fake.sent_messages(channel(fake)) == [] and len(fake.sent_messages(READER)) == 1
        press = fake.press_button(ADMIN, "Опубликовать")
        answer = await fake.wait_for_callback_answer(press)
        assert answer["text"] == "✅ Опубликовано — Анна"
        [post] = await fake.wait_for_messages(channel(fake), 1)
        assert (post.html, post.buttons) == shown and not post.silent  # the preview, exactly
        [_, alert] = await fake.wait_for_messages(READER, 2)
        assert "Армия начала манёвры" in alert.text and not alert.silent
        for preview in (first, second):
            await fake.wait_for(lambda p=preview: decided(fake, p, "✅ Опубликовано — Анна"))
            assert fake.message(preview.chat.id, preview.message_id).html.endswith(shown[0])
        await fake.settle(0.5)
        assert len(fake.sent_messages(channel(fake))) == 1


async def test_silent_posts_without_a_notification(settings: Settings, fake: FakeTelegram) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        await say(fake, READER, "/subscribe")
        first, second = await new_article(fake, cfg)
        press = fake.press_button(ADMIN2, "Без звука", message_id=second.message_id)
        assert (await fake.wait_for_callback_answer(press))["text"].startswith("🔕")
        [post] = await fake.wait_for_messages(channel(fake), 1)
        [_, alert] = await fake.wait_for_messages(READER, 2)
        assert post.silent and alert.silent
        for preview in (first, second):
            await fake.wait_for(
                lambda p=preview: decided(fake, p, "🔕 Опубликовано без звука — Борис")
            )


async def test_skip_posts_nothing_and_the_article_stays_searchable(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        await say(fake, READER, "/subscribe")
        first, second = await new_article(fake, cfg)
        press = fake.press_button(ADMIN, "Пропустить")
        assert (await fake.wait_for_callback_answer(press))["text"] == "⏭ Пропущено — Анна"
        for preview in (first, second):
            await fake.wait_for(lambda p=preview: decided(fake, p, "⏭ Пропущено — Анна"))
        await fake.settle(0.8)
        assert fake.sent_messages(channel(fake)) == [] and len(fake.sent_messages(READER)) == 1
        [found] = await say(fake, READER, "/search манёвры")
        assert "Армия начала манёвры" in found.text


@pytest.mark.parametrize("default", ["publish", "skip"])
async def test_timeout_decides_with_the_default(
    settings: Settings, fake: FakeTelegram, default: ApprovalDefault
) -> None:
    shift = [0.0]

    def clock() -> float:
        return time.time() + shift[0]

    bot = approval_bot(settings, fake, timeout=1.0, default=default, clock=clock)
    async with bot as (app, cfg):
        first, second = await new_article(fake, cfg)
        article_id = int(first.buttons[-1]["callback_data"].split(":")[1])
        await fake.settle(0.8)  # ticks before the deadline decide nothing
        assert labels(fake.message(ADMIN, first.message_id)) == RU_BUTTONS
        shift[0] = 61.0
        line = "✅ Опубликовано — по таймауту" if default == "publish" else "⏭ Пропущено"
        for preview in (first, second):
            await fake.wait_for(lambda p=preview: decided(fake, p, line))
        await fake.settle(0.5)
        assert len(fake.sent_messages(channel(fake))) == (1 if default == "publish" else 0)
        row = await approvals.get(app.conn, article_id)
        status = "published" if default == "publish" else "skipped"
        assert row is not None and (row.status, row.decided_by) == (status, None)


async def test_a_non_admin_press_is_refused_and_changes_nothing(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (app, cfg):
        first, _ = await new_article(fake, cfg)
        data = first.buttons[-3]["callback_data"]
        [hello] = await say(fake, STRANGER, "/start")
        press = fake.push_callback(STRANGER, data, message_id=hello.message_id, check=False)
        answer = await fake.wait_for_callback_answer(press)
        assert answer["text"] == "Решать о публикации могут только администраторы бота."
        await fake.settle(0.8)
        assert fake.sent_messages(channel(fake)) == []
        assert labels(fake.message(ADMIN, first.message_id)) == RU_BUTTONS
        assert await app.app.approvals.count_pending() == 1


async def test_two_admins_racing_one_wins_the_loser_is_told(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        first, second = await new_article(fake, cfg)
        presses = [
            fake.press_button(ADMIN, "Опубликовать"),
            fake.press_button(ADMIN2, "Пропустить", message_id=second.message_id),
        ]
        replies = await asyncio.gather(*map(fake.wait_for_callback_answer, presses))
        answers = [a["text"] for a in replies]
        won = [a for a in answers if not a.startswith("Уже решено")]
        assert len(won) == 1
        [lost] = [a for a in answers if a.startswith("Уже решено: ")]
        assert lost == f"Уже решено: {won[0]}"
        for preview in (first, second):
            await fake.wait_for(lambda p=preview: decided(fake, p, won[0]))
        await fake.settle(0.8)
        published = won[0].startswith("✅")
        assert len(fake.sent_messages(channel(fake))) == (1 if published else 0)


async def test_an_admin_who_blocked_the_bot_does_not_hold_up_the_others(
    settings: Settings, fake: FakeTelegram
) -> None:
    fake.block_chat(ADMIN2)
    async with approval_bot(settings, fake) as (app, cfg):
        await say(fake, READER, "/subscribe")
        mark = fake.mark()
        write_seed(cfg.seeds_dir, "new.txt", "Армия начала манёвры", ["Начались манёвры."])
        [preview] = await fake.wait_for_messages(ADMIN, 1, since=mark)
        await wait_until(lambda: _failed_preview(app.conn, str(ADMIN2)))
        fake.press_button(ADMIN, "Опубликовать", message_id=preview.message_id)
        await fake.wait_for_messages(channel(fake), 1)
        await fake.wait_for_messages(READER, 2)  # the reader's subscription is untouched


async def _failed_preview(conn: aiosqlite.Connection, chat: str) -> bool:
    """The admin's preview was given up (403), not retried, and nobody was unsubscribed."""
    rows = await outbox.all_deliveries(conn)
    return any(d.kind == "preview" and d.chat_id == chat and d.status == "failed" for d in rows)


async def test_an_admin_who_subscribed_gets_the_alert_besides_the_preview(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        await say(fake, ADMIN, "/subscribe")
        mark = fake.mark()
        first, _ = await new_article(fake, cfg)
        press = fake.press_button(ADMIN, "Опубликовать", message_id=first.message_id)
        await fake.wait_for_callback_answer(press)
        await fake.wait_for_messages(channel(fake), 1)
        await fake.wait_for(lambda: decided(fake, first, "✅ Опубликовано — Анна"))
        # the preview and the subscriber's alert are two messages to one chat
        [_, alert] = await fake.wait_for_messages(ADMIN, 2, since=mark)
        assert alert.message_id != first.message_id
        assert "Армия начала манёвры" in alert.text and labels(alert)[-3:] != RU_BUTTONS
