"""``python -m bot run``: ingest the seeds, then long-poll Telegram until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from typing import Any

from bot.config import Settings
from bot.services.ingest import IngestError, Ingestor
from bot.store.articles import count_visible
from bot.store.db import StoreError, open_db

log = logging.getLogger(__name__)

NO_TOKEN = (
    "BOT_TOKEN is not set: put the token from @BotFather into .env or the environment "
    "(BOT_TOKEN=123456:ABC...), or try the bot offline with `python -m bot console`."
)
POLLING_TIMEOUT = 25
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def run_bot(settings: Settings, *, console_if_no_token: bool) -> int:
    """Run the bot; returns the exit code (0 after a clean stop, 2 without a token, 1 on error)."""
    if not settings.has_token:
        if console_if_no_token:
            _say("BOT_TOKEN is not set, so starting the offline console (python -m bot console).")
            from bot.console import run_console

            return await run_console(settings)
        _say(NO_TOKEN)
        return 2
    stop = asyncio.Event()  # a signal before polling starts (aiogram then takes over)
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        conn = await open_db(settings.db_path)
    except StoreError as exc:
        _say(f"error: {exc}")
        return 1
    try:
        if not settings.seeds_dir.is_dir():
            _say(f"error: seeds folder {settings.seeds_dir} does not exist or is not a folder")
            return 1
        ingestor = Ingestor(conn, settings.seeds_dir, settings.source_tz)
        # An empty cache is filled before polling, so the first reader gets answers. Otherwise
        # the startup scan is the scheduler's first tick, run as polling starts: the cache
        # already answers from what earlier runs stored, and nothing is scanned twice.
        if await count_visible(conn) == 0:
            try:
                report = await ingestor.scan()
            except IngestError as exc:
                _say(f"error: {exc}")
                return 1
            log.info("seeds %s: %s", settings.seeds_dir, report.summary())
        return 0 if stop.is_set() else await _poll(settings, conn, ingestor, stop)
    finally:
        for sig in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await conn.close()


async def _poll(settings: Settings, conn: Any, ingestor: Ingestor, stop: asyncio.Event) -> int:
    """Long polling with the real Dispatcher; aiogram stops it on SIGTERM/SIGINT."""
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
    from aiogram.utils.token import TokenValidationError

    from bot.services.search import SearchService
    from bot.telegram import build_dispatcher, make_bot
    from bot.telegram.session import JsonSession

    session = JsonSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    try:
        try:
            bot = make_bot(settings.bot_token.reveal(), session)
        except TokenValidationError:
            _say("error: BOT_TOKEN does not look like a bot token (expected 123456:ABC...).")
            return 2
        dp = build_dispatcher(
            settings, conn=conn, search=SearchService(conn), ingestor=ingestor, bot=bot
        )
        if stop.is_set():
            return 0
        # aiogram's thousands of pydantic classes are long-lived: move them out of the young
        # generations so collections during request handling don't walk (and rebuild) them.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        log.info("long polling %s", settings.telegram_api_url)
        try:
            await dp.start_polling(bot, polling_timeout=POLLING_TIMEOUT, handle_signals=True)
        except TelegramUnauthorizedError:
            _say("error: Telegram rejected BOT_TOKEN (401 Unauthorized); check the token.")
            return 1
        except TelegramAPIError as exc:
            _say(f"error: cannot talk to Telegram at {settings.telegram_api_url}: {exc}")
            return 1
        log.info("stopped cleanly")
        return 0
    finally:
        await session.close()
