"""Shared by the approval end-to-end tests: two admins, the bot with APPROVAL=on, previews."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

from bot.config import ApprovalDefault, Settings
from tests.fake_telegram import FakeTelegram, SentMessage
from tests.helpers import ADMIN, BotApp, delivery_settings, start_fast_bot, write_seed

ADMIN2 = 902
"""The second admin (ADMIN is the first)."""
STRANGER = 901
READER = 101
RU_BUTTONS = ["Опубликовать", "Без звука", "Пропустить"]
EN_BUTTONS = ["Publish", "Publish silently", "Skip"]


def approval_settings(
    settings: Settings, *, timeout: float = 0.0, default: ApprovalDefault = "publish"
) -> Settings:
    """delivery_settings with APPROVAL=on and two admins."""
    return replace(
        delivery_settings(settings),
        admin_ids=frozenset({ADMIN, ADMIN2}),
        approval=True,
        approval_timeout=timeout,
        approval_default=default,
    )


async def start_approval_bot(
    cfg: Settings, fake: FakeTelegram, clock: Callable[[], float] = time.time
) -> BotApp:
    """The bot with fast delivery, polling; the admins have names the previews can show."""
    fake.add_user(ADMIN, first_name="Анна")
    fake.add_user(ADMIN2, first_name="Борис")
    app = await start_fast_bot(cfg, fake, clock=clock)
    await fake.wait_for_request("getUpdates")
    return app


@contextlib.asynccontextmanager
async def approval_bot(
    settings: Settings,
    fake: FakeTelegram,
    *,
    timeout: float = 0.0,
    default: ApprovalDefault = "publish",
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[tuple[BotApp, Settings]]:
    """The bot with APPROVAL=on and its settings; afterwards the fake must have seen no request
    Telegram would refuse, and the bot is stopped either way."""
    cfg = approval_settings(settings, timeout=timeout, default=default)
    app = await start_approval_bot(cfg, fake, clock=clock)
    try:
        yield app, cfg
        fake.assert_clean()
    finally:
        await app.stop()


async def new_article(
    fake: FakeTelegram, cfg: Settings, title: str = "Армия начала манёвры"
) -> tuple[SentMessage, SentMessage]:
    """Write a new seed; wait for both admins' previews."""
    mark = fake.mark()
    write_seed(cfg.seeds_dir, "new.txt", title, ["Начались манёвры у границы."])
    [first] = await fake.wait_for_messages(ADMIN, 1, since=mark)
    [second] = await fake.wait_for_messages(ADMIN2, 1, since=mark)
    return first, second


def labels(message: SentMessage) -> list[str]:
    """The texts of the message's callback buttons (the decision row)."""
    return [b["text"] for b in message.buttons if "callback_data" in b]


def decided(fake: FakeTelegram, message: SentMessage, line: str) -> bool:
    """The preview was edited to start with ``line`` and has no decision buttons left."""
    now = fake.message(message.chat.id, message.message_id)
    return now.text.startswith(line) and not labels(now)
