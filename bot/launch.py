"""What both Telegram front ends do before they run: build the App over TELEGRAM_API_URL, fill
an empty cache, and check with getMe that the address is the Bot API and takes the token.

Every failure is one line on stderr and an exit code (1; 2 for a malformed token), never a
traceback: the polling and webhook front ends only differ in how updates arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

from aiogram.utils.token import TokenValidationError

from bot.app import App, build_app
from bot.config import Settings
from bot.observe import HealthPolicy
from bot.services.ingest import IngestError
from bot.store.articles import count_visible
from bot.store.db import StoreError
from bot.telegram.session import JsonSession
from bot.telegram.startup import StartupError, check_api

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def say(line: str) -> None:
    """One line for the operator on stderr."""
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGTERM/SIGINT while the block runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def prepare(
    settings: Settings,
    *,
    monitoring: HealthPolicy | None = None,
    session: JsonSession | None = None,
) -> App | int:
    """The App ready to run, or the exit code after saying why not (the App closed then)."""
    session = session or JsonSession.over(settings.telegram_api_url)
    try:
        app = await build_app(settings, session=session, monitoring=monitoring)
    except StoreError as exc:
        say(f"error: {exc}")
        return 1
    except TokenValidationError:
        say("error: BOT_TOKEN does not look like a bot token (expected 123456:ABC...).")
        return 2
    code = await _ready(app)
    if code:
        await app.close()
        return code
    return app


async def _ready(app: App) -> int:
    settings = app.settings
    if not settings.seeds_dir.is_dir():
        say(f"error: seeds folder {settings.seeds_dir} does not exist or is not a folder")
        return 1
    try:  # first: a wrong address or token fails at once, before a long scan
        me = await check_api(app.bot, settings.telegram_api_url)
    except StartupError as exc:
        say(f"error: {exc}")
        return 1
    log.info("Telegram at %s: the bot is @%s", settings.telegram_api_url, me.username)
    # An empty cache is filled before updates are taken, so the first reader gets answers.
    # Otherwise the startup scan is the scheduler's first tick: the cache already answers from
    # what earlier runs stored, and nothing is scanned twice.
    if await count_visible(app.conn) == 0:
        try:
            report = await app.ingestor.scan()
        except IngestError as exc:
            say(f"error: {exc}")
            return 1
        log.info("seeds %s: %s", settings.seeds_dir, report.summary())
    return 0
