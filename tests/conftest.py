"""Shared fixtures: a private copy of the seeds, a temp DB, settings, and (when the fake Bot API
server exists) a FakeTelegram plus a real Dispatcher + Bot long-polling it over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer

from bot.config import Secret, Settings
from tests import fake_telegram
from tests.helpers import copy_seeds

TEST_TOKEN = "123456:TEST-token"


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A private copy of the project's real seeds folder (add files with helpers.write_seed)."""
    return copy_seeds(tmp_path / "seeds")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file that does not exist yet."""
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def settings(seeds_dir: Path, db_path: Path) -> Settings:
    """Settings for tests: temp seeds and DB, no token, no channel, Moscow time."""
    return Settings(
        seeds_dir=seeds_dir,
        db_path=db_path,
        source_tz=ZoneInfo("Europe/Moscow"),
        post_interval=3600.0,
    )


@pytest.fixture
async def fake_tg() -> AsyncIterator[Any]:
    """A running FakeTelegram on 127.0.0.1 (tests/fake_telegram.py); stopped afterwards."""
    server = fake_telegram.FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@dataclass
class BotApp:
    """The bot under test: real Dispatcher and Bot polling the fake server, and its services."""

    dp: Dispatcher
    bot: Bot
    conn: aiosqlite.Connection
    settings: Settings
    fake: Any
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop polling the way SIGTERM does (shutdown hooks run) and wait for it."""
        if not self.task.done():
            await self.dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start_bot_app(
    settings: Settings,
    fake: Any,
    *,
    scan: bool = True,
    pacing: Any = None,
    timeout: float = 60.0,
) -> BotApp:
    """Ingest the seeds (unless ``scan`` is off), build the real Dispatcher, poll ``fake``.

    ``pacing`` replaces the delivery pacing before polling starts (scaled-down time in tests);
    ``timeout`` is the Bot session's request timeout.
    """
    from bot.services.ingest import Ingestor
    from bot.services.search import SearchService
    from bot.store.db import open_db
    from bot.telegram import build_dispatcher, make_bot
    from bot.telegram.session import JsonSession

    settings = replace(settings, bot_token=Secret(TEST_TOKEN), telegram_api_url=fake.url)
    conn = await open_db(settings.db_path)
    ingestor = Ingestor(conn, settings.seeds_dir, settings.source_tz)
    if scan:
        await ingestor.scan()
    api = TelegramAPIServer.from_base(fake.url)
    session = JsonSession(api=api, timeout=timeout)
    bot = make_bot(TEST_TOKEN, session)
    dp = build_dispatcher(
        settings, conn=conn, search=SearchService(conn), ingestor=ingestor, bot=bot
    )
    if pacing is not None:
        dp["pacing"] = pacing
    task = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    return BotApp(dp, bot, conn, settings, fake, task)


@pytest.fixture
async def bot_app(settings: Settings, fake_tg: Any) -> AsyncIterator[BotApp]:
    """The bot polling the fake server; afterwards it is stopped and its DB closed."""
    app = await start_bot_app(settings, fake_tg)
    try:
        yield app
    finally:
        await app.stop()
        await app.conn.close()


@pytest.fixture
async def fake() -> AsyncIterator[Any]:
    """A running FakeTelegram that also knows the channel @news (delivery and admin tests)."""
    server = fake_telegram.FakeTelegram()
    server.add_channel("news")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
