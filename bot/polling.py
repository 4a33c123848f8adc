"""``python -m bot run``: the long-polling front end — ingest if empty, poll until SIGTERM/Ctrl-C.

A front end like the console and the webhook: ``bot.launch.prepare`` builds and checks the App
over TELEGRAM_API_URL; this module deletes any webhook and polls. With HTTP_LISTEN set it also
serves /healthz, /readyz and /metrics.
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from bot.app import App
from bot.config import Settings
from bot.launch import prepare, say, stop_on_signals
from bot.observe import HealthPolicy
from bot.telegram.startup import StartupError, delete_webhook

if TYPE_CHECKING:  # aiohttp's server side (1.5 MB) is loaded only with HTTP_LISTEN (bot.web)
    from aiohttp import web

log = logging.getLogger(__name__)

POLLING_TIMEOUT = 25


async def run_polling(settings: Settings) -> int:
    """Run the bot; returns the exit code (0 after a clean stop, 2 for a bad token, 1 on error)."""
    monitoring = HealthPolicy() if settings.http_listen_set else None
    with stop_on_signals() as stop:  # a signal before polling starts (aiogram then takes over)
        prepared = await prepare(settings, monitoring=monitoring)
        if isinstance(prepared, int):
            return prepared
        app = prepared
        try:
            if stop.is_set():
                return 0
            try:
                await delete_webhook(app.bot, settings.telegram_api_url)
            except StartupError as exc:
                say(f"error: {exc}")
                return 1
            runner: web.AppRunner | None = None
            if app.health is not None:
                from bot.web import ListenError, monitoring_app, serve  # with prometheus_client

                try:
                    runner = await serve(monitoring_app(app.health), settings.http_listen)
                except ListenError as exc:
                    say(f"error: {exc}")
                    return 1
            try:
                return await _poll(app)
            finally:
                if runner is not None:
                    await runner.cleanup()
        finally:
            await app.close()


async def _poll(app: App) -> int:
    """Long polling with the real Dispatcher; aiogram stops it on SIGTERM/SIGINT."""
    url = app.settings.telegram_api_url
    # aiogram's thousands of pydantic classes are long-lived: move them out of the young
    # generations so collections during request handling don't walk (and rebuild) them. No
    # gc.collect() first: after the imports it finds nothing to free, and walking their ~190k
    # objects cost 0.13 s of CPU before the first getUpdates (docs/benchmarks.md).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    log.info("long polling %s", url)
    try:
        await app.dp.start_polling(app.bot, polling_timeout=POLLING_TIMEOUT, handle_signals=True)
    except TelegramUnauthorizedError:
        say("error: Telegram rejected BOT_TOKEN (401 Unauthorized); check the token.")
        return 1
    except TelegramAPIError as exc:
        say(f"error: cannot talk to Telegram at {url}: {exc}")
        return 1
    log.info("stopped cleanly")
    return 0
