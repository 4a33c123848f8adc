"""The Telegram front end: one Dispatcher shared by long polling and the offline console."""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import Any

import aiosqlite
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError

from bot.config import Settings
from bot.telegram.callbacks import QueryCache
from bot.telegram.commands import set_commands
from bot.telegram.handlers import routers
from bot.telegram.middlewares import InFlight, ReplyRetry
from bot.telegram.views import Views

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 5.0
"""Seconds that running handlers get to finish once polling has stopped."""


def make_bot(token: str, session: BaseSession) -> Bot:
    """A Bot that speaks HTML without link previews and retries replies after a 429."""
    session.middleware(ReplyRetry())
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    settings: Settings,
    *,
    conn: aiosqlite.Connection,
    search: Any,
    ingestor: Any,
    bot: Bot | None,
) -> Dispatcher:
    """Routers, workflow data (settings, search, ingestor, conn, queries) and start/stop hooks.

    ``bot`` is None in the offline console: the delivery engineer's scheduler then stays off.
    """
    inflight = InFlight()
    queries = QueryCache()
    dp = Dispatcher(
        disable_fsm=True,  # no handler keeps conversation state; saves a middleware per update
        settings=settings,
        search=search,
        ingestor=ingestor,
        conn=conn,
        queries=queries,
        views=Views(search, settings.source_tz, queries),
        inflight=inflight,
    )
    dp.update.outer_middleware(inflight)
    dp.include_routers(*routers())
    dp.startup.register(_on_startup)
    dp.shutdown.register(_on_shutdown)  # registered before delivery's: handlers finish first
    install = _delivery_installer()
    if install is not None:
        install(dp, bot=bot, conn=conn, settings=settings, ingestor=ingestor, search=search)
    return dp


def _delivery_installer() -> Any:
    """``install_delivery`` from bot.telegram.delivery when that module provides it."""
    try:
        module = importlib.import_module("bot.telegram.delivery")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.telegram.delivery":
            raise
        return None
    return getattr(module, "install_delivery", None)


async def _on_startup(bot: Bot, settings: Settings) -> None:
    await set_commands(bot, settings.admin_ids)


async def _on_shutdown(bot: Bot, inflight: InFlight) -> None:
    """Let running handlers finish (bounded), then confirm the updates they handled."""
    await inflight.wait_idle(SHUTDOWN_GRACE)
    if inflight.max_seen:
        with contextlib.suppress(TelegramAPIError, OSError, TimeoutError):
            await bot.get_updates(
                offset=inflight.confirm_offset(), limit=1, timeout=0, request_timeout=3
            )
