"""``python -m bot run``: the long-polling front end — ingest if empty, poll until SIGTERM/Ctrl-C.

A front end like the console: it passes a JsonSession over TELEGRAM_API_URL to ``build_app``
and runs the result; the building is ``bot.app``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.utils.token import TokenValidationError

from bot.app import App, build_app
from bot.config import Settings
from bot.services.ingest import IngestError
from bot.store.articles import count_visible
from bot.store.db import StoreError
from bot.telegram.session import JsonSession

log = logging.getLogger(__name__)

POLLING_TIMEOUT = 25
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def run_polling(settings: Settings) -> int:
    """Run the bot; returns the exit code (0 after a clean stop, 2 for a bad token, 1 on error)."""
    stop = asyncio.Event()  # a signal before polling starts (aiogram then takes over)
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        app = await build_app(settings, session=JsonSession.over(settings.telegram_api_url))
    except StoreError as exc:
        _say(f"error: {exc}")
        return 1
    except TokenValidationError:
        _say("error: BOT_TOKEN does not look like a bot token (expected 123456:ABC...).")
        return 2
    try:
        if not settings.seeds_dir.is_dir():
            _say(f"error: seeds folder {settings.seeds_dir} does not exist or is not a folder")
            return 1
        # An empty cache is filled before polling, so the first reader gets answers. Otherwise
        # the startup scan is the scheduler's first tick, run as polling starts: the cache
        # already answers from what earlier runs stored, and nothing is scanned twice.
        if await count_visible(app.conn) == 0:
            try:
                report = await app.ingestor.scan()
            except IngestError as exc:
                _say(f"error: {exc}")
                return 1
            log.info("seeds %s: %s", settings.seeds_dir, report.summary())
        return 0 if stop.is_set() else await _poll(app)
    finally:
        for sig in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await app.close()


async def _poll(app: App) -> int:
    """Long polling with the real Dispatcher; aiogram stops it on SIGTERM/SIGINT."""
    url = app.settings.telegram_api_url
    # aiogram's thousands of pydantic classes are long-lived: move them out of the young
    # generations so collections during request handling don't walk (and rebuild) them.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    log.info("long polling %s", url)
    try:
        await app.dp.start_polling(app.bot, polling_timeout=POLLING_TIMEOUT, handle_signals=True)
    except TelegramUnauthorizedError:
        _say("error: Telegram rejected BOT_TOKEN (401 Unauthorized); check the token.")
        return 1
    except TelegramAPIError as exc:
        _say(f"error: cannot talk to Telegram at {url}: {exc}")
        return 1
    log.info("stopped cleanly")
    return 0
