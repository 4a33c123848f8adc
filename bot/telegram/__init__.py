"""The Telegram layer's two builders: the Bot over a given session, and the Dispatcher.

aiogram lives in this package (and in the front ends that drive it); ``bot.app`` builds through
these functions and names the aiogram types it holds through the re-exports below.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession as Session
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError

from bot.config import Settings
from bot.observe import NO_OBSERVER, Observer
from bot.services.approval import ApprovalService
from bot.services.publishing import PublishingService
from bot.services.search import SearchService
from bot.services.subscriptions import SubscriptionService
from bot.telegram.callbacks import QueryCache
from bot.telegram.commands import set_commands
from bot.telegram.handlers import routers
from bot.telegram.middlewares import ApiWatch, InFlight, ReaderLanguage, ReplyRetry
from bot.telegram.templates import PostRenderer, default_renderer
from bot.telegram.views import Views

__all__ = ["Bot", "Dispatcher", "Session", "build_dispatcher", "make_bot"]

SHUTDOWN_GRACE = 5.0
"""Seconds that running handlers get to finish once polling has stopped."""


def make_bot(token: str, session: Session, observer: Observer = NO_OBSERVER) -> Bot:
    """A Bot that speaks HTML without link previews and retries replies after a 429; with an
    ``observer`` each API success and 429 is reported to it.

    Raises aiogram's TokenValidationError for a token that is not ``123456:ABC…``.
    """
    session.middleware(ReplyRetry(observer=observer))
    if observer is not NO_OBSERVER:
        session.middleware(ApiWatch(observer))  # inside ReplyRetry: sees every attempt
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    settings: Settings,
    *,
    search: SearchService,
    subscriptions: SubscriptionService,
    publishing: PublishingService,
    renderer: PostRenderer | None = None,
    observer: Observer = NO_OBSERVER,
    approvals: ApprovalService | None = None,
) -> Dispatcher:
    """Routers, the handlers' workflow data and the start/stop hooks of the Telegram side.

    Handlers receive ``settings``, ``search``, ``subscriptions``, ``publishing``, ``views``,
    ``queries``, ``inflight``, the channel post ``renderer``, ``approvals`` and the reader's
    ``lang`` as typed parameters.
    """
    if approvals is None:
        approvals = ApprovalService(publishing.conn, publishing, None)
    inflight = InFlight(observer)
    queries = QueryCache()
    dp = Dispatcher(
        disable_fsm=True,  # no handler keeps conversation state; saves a middleware per update
        settings=settings,
        search=search,
        subscriptions=subscriptions,
        publishing=publishing,
        renderer=renderer or default_renderer(),
        queries=queries,
        views=Views(search, settings.source_tz, queries, utm=settings.utm_params),
        inflight=inflight,
        approvals=approvals,
    )
    dp.update.outer_middleware(inflight)
    # after aiogram's: it reads the sender; admins' languages are kept for their previews
    dp.update.outer_middleware(ReaderLanguage(settings.admin_ids, approvals.saw_admin))
    dp.include_routers(*routers())
    dp.startup.register(_on_startup)
    dp.shutdown.register(_on_shutdown)  # the first shutdown hook: handlers finish first
    return dp


async def _on_startup(bot: Bot, settings: Settings) -> None:
    await set_commands(bot, settings.admin_ids)


async def _on_shutdown(bot: Bot, inflight: InFlight, polling: bool = True) -> None:
    """Let running handlers finish (bounded), then confirm the updates they handled (polling
    only: a webhook front end passes ``polling=False``, Telegram took its updates already)."""
    await inflight.wait_idle(SHUTDOWN_GRACE)
    if polling and inflight.max_seen:
        with contextlib.suppress(TelegramAPIError, OSError, TimeoutError):
            await bot.get_updates(
                offset=inflight.confirm_offset(), limit=1, timeout=0, request_timeout=3
            )
