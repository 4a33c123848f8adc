"""The composition root: every object of the bot, built once here and in dependency order.

Front ends differ only in what they pass in: long polling a JsonSession over TELEGRAM_API_URL,
the offline console its OfflineSession and no scheduler, tests and benchmarks a session pointed
at the fake Bot API server and a faster ``Pacing``. Running (polling, the console's loop) is
theirs; nothing here starts a loop except the scheduler, on the Dispatcher's startup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosqlite

from bot.config import Settings
from bot.services.ingest import Ingestor
from bot.services.publishing import PublishingService
from bot.services.scheduler import Deliverer, Pacing
from bot.services.search import SearchService
from bot.services.subscriptions import SubscriptionService
from bot.services.ticks import Scheduler
from bot.services.watch import Watcher
from bot.store.db import open_db
from bot.telegram import Bot, Dispatcher, Session, build_dispatcher, make_bot
from bot.telegram.publisher import AiogramPublisher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Core:
    """The database and the services every command needs, Telegram or not."""

    settings: Settings
    conn: aiosqlite.Connection
    ingestor: Ingestor
    search: SearchService

    async def close(self) -> None:
        """Close the database (the one connection of the process)."""
        await self.conn.close()


@dataclass(frozen=True, slots=True)
class App(Core):
    """The whole bot: the core, the delivery services, the Bot and its Dispatcher.

    ``scheduler`` is None when the front end asked for none (the offline console): then
    /reload still scans and queues, and nothing is sent on the bot's own. An App runs once:
    the front end runs it, stops it, then calls ``close``.
    """

    subscriptions: SubscriptionService
    publishing: PublishingService
    scheduler: Scheduler | None
    bot: Bot
    dp: Dispatcher

    async def close(self) -> None:
        """Close the Bot API session and the database, once the front end has stopped."""
        await self.bot.session.close()
        await self.conn.close()


async def build_core(settings: Settings) -> Core:
    """Open the database (StoreError when it cannot be) and the services on it."""
    conn = await open_db(settings.db_path)
    return Core(
        settings=settings,
        conn=conn,
        ingestor=Ingestor(
            conn, settings.seeds_dir, settings.source_tz, settle_seconds=settings.settle_seconds
        ),
        search=SearchService(conn),
    )


async def build_app(
    settings: Settings,
    *,
    session: Session,
    token: str | None = None,
    scheduler: bool = True,
    pacing: Pacing | None = None,
    watch: bool = True,
) -> App:
    """Build the bot over ``session``; nothing talks to Telegram until the front end runs it.

    ``token`` defaults to BOT_TOKEN (aiogram's TokenValidationError when it is malformed).
    With ``scheduler`` the Dispatcher's startup starts the tick loop and the paced deliverer
    (``pacing``, default Telegram's limits) and its shutdown stops them after the handlers;
    with ``watch`` too, filesystem notifications on SEEDS_DIR wake the tick loop at once.
    Raises StoreError when the database cannot be opened.
    """
    core = await build_core(settings)
    try:
        return _build_telegram(core, session, token, scheduler, pacing, watch)
    except BaseException:
        await core.close()
        raise


def _build_telegram(
    core: Core,
    session: Session,
    token: str | None,
    scheduler: bool,
    pacing: Pacing | None,
    watch: bool,
) -> App:
    settings, conn = core.settings, core.conn
    subscriptions = SubscriptionService(conn, core.search)
    bot = make_bot(settings.bot_token.reveal() if token is None else token, session)
    deliverer = None
    if scheduler:
        publisher = AiogramPublisher(bot, tz=settings.source_tz)
        deliverer = Deliverer(
            conn,
            publisher,
            pacing=pacing,
            admin_ids=settings.admin_ids,
            withdrawn_posts=settings.withdrawn_posts,
        )
    publishing = PublishingService(
        conn,
        ingestor=core.ingestor,
        subscriptions=subscriptions,
        channel_id=settings.channel_id,
        backlog=settings.post_backlog,
        on_queued=_nothing_to_wake if deliverer is None else deliverer.wake,
        admin_ids=settings.admin_ids,
        withdrawn_posts=settings.withdrawn_posts,
    )
    schedule = None
    if deliverer is not None:
        schedule = Scheduler(publishing, deliverer, interval=settings.post_interval)
        if watch:
            schedule.also_run(Watcher(settings.seeds_dir, schedule.wake))
    dp = build_dispatcher(
        settings, search=core.search, subscriptions=subscriptions, publishing=publishing
    )
    if schedule is not None:
        _hook_scheduler(schedule, dp, bot, settings)
    return App(
        settings=settings,
        conn=conn,
        ingestor=core.ingestor,
        search=core.search,
        subscriptions=subscriptions,
        publishing=publishing,
        scheduler=schedule,
        bot=bot,
        dp=dp,
    )


def _hook_scheduler(scheduler: Scheduler, dp: Dispatcher, bot: Bot, settings: Settings) -> None:
    """Start the scheduler on dp.startup, stop it on dp.shutdown (after the handlers' hook)."""

    async def start_scheduler() -> None:
        await bot.me()  # the posts' deep links name the bot: fail the start early without it
        scheduler.start()
        log.info(
            "scheduler started: every %g s, channel %s, backlog %d",
            settings.post_interval,
            settings.channel_id or "not configured",
            settings.post_backlog,
        )

    async def stop_scheduler() -> None:
        await scheduler.stop()

    dp.startup.register(start_scheduler)
    dp.shutdown.register(stop_scheduler)


def _nothing_to_wake() -> None:
    """Without a scheduler nothing sends on the bot's own, so queueing wakes nobody."""
