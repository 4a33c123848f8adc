"""Seam 2: put the delivery services into the dispatcher and run the scheduler with the bot."""

from __future__ import annotations

import logging
from typing import Any

import aiosqlite
from aiogram import Bot, Dispatcher

from bot.config import Settings
from bot.services.publishing import PublishingService, Scanner
from bot.services.scheduler import Deliverer, Pacing, Scheduler
from bot.services.subscriptions import SubscriptionService
from bot.telegram.publisher import AiogramPublisher

log = logging.getLogger(__name__)


def install_delivery(
    dp: Dispatcher,
    *,
    bot: Bot | None,
    conn: aiosqlite.Connection,
    settings: Settings,
    ingestor: Scanner,
    search: Any,
    pacing: Pacing | None = None,
) -> None:
    """Add ``publishing`` and ``subscriptions`` to workflow data; with a bot, start/stop the
    scheduler (ticks + paced deliverer) on dp.startup/dp.shutdown.

    Pacing is ``pacing``, else a ``Pacing`` put in ``dp["pacing"]`` before polling starts (tests
    scale time down that way), else the production defaults.
    """
    subscriptions = SubscriptionService(conn, search)
    publishing = PublishingService(
        conn,
        ingestor=ingestor,
        subscriptions=subscriptions,
        channel_id=settings.channel_id,
        backlog=settings.post_backlog,
    )
    dp["subscriptions"] = subscriptions
    dp["publishing"] = publishing
    if bot is None:
        return  # offline console: /reload still scans and queues; nothing is sent
    running: list[Scheduler] = []

    async def start_scheduler() -> None:
        me = await bot.me()
        publisher = AiogramPublisher(bot, bot_username=me.username, tz=settings.source_tz)
        chosen = pacing or dp.workflow_data.get("pacing") or Pacing()
        deliverer = Deliverer(conn, publisher, pacing=chosen, admin_ids=settings.admin_ids)
        scheduler = Scheduler(publishing, deliverer, interval=settings.post_interval)
        scheduler.start()
        running.append(scheduler)
        log.info(
            "scheduler started: every %g s, channel %s, backlog %d",
            settings.post_interval,
            settings.channel_id or "not configured",
            settings.post_backlog,
        )

    async def stop_scheduler() -> None:
        while running:
            await running.pop().stop()

    dp.startup.register(start_scheduler)
    dp.shutdown.register(stop_scheduler)
