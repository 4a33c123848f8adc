"""The composition root: every object of the bot, built once here and in dependency order.

Front ends differ only in what they pass in: long polling a JsonSession over TELEGRAM_API_URL,
the offline console its OfflineSession and no scheduler, tests and benchmarks a session pointed
at the fake Bot API server and a faster ``Pacing``. Running (polling, the console's loop) is
theirs; nothing here starts a loop except the scheduler, on the Dispatcher's startup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiosqlite

from bot.config import ConfigError, Settings
from bot.models import Target
from bot.observe import NO_OBSERVER, HealthPolicy, Observer
from bot.services.approval import ApprovalPolicy, ApprovalService
from bot.services.ingest import Ingestor
from bot.services.publishing import PublishingService
from bot.services.scheduler import Deliverer, Pacing
from bot.services.search import SearchService, synonyms_for
from bot.services.subscriptions import SubscriptionService
from bot.services.targets import TargetRules
from bot.services.ticks import Scheduler
from bot.services.watch import Watcher
from bot.store.db import open_db
from bot.targets import default_targets

if TYPE_CHECKING:  # imported when an App is built: `python -m bot ingest` never loads aiogram
    from bot.services.feeds import FeedService
    from bot.services.health import Health
    from bot.sources.http import HttpLimits
    from bot.telegram import Bot, Dispatcher, Session
    from bot.telegram.templates import PostRenderer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Core:
    """The database and the services every command needs, Telegram or not."""

    settings: Settings
    conn: aiosqlite.Connection
    ingestor: Ingestor
    search: SearchService
    observer: Observer

    async def close(self) -> None:
        """Close the database (the one connection of the process)."""
        await self.conn.close()


@dataclass(frozen=True, slots=True)
class App(Core):
    """The whole bot: the core, the delivery services, the Bot and its Dispatcher.

    ``scheduler`` is None when the front end asked for none (the offline console): then
    /reload still scans and queues, and nothing is sent on the bot's own. ``feeds`` polls FEEDS
    beside the scheduler (None without FEEDS or without a scheduler). An App runs once: the
    front end runs it, stops it, then calls ``close``.
    """

    subscriptions: SubscriptionService
    publishing: PublishingService
    scheduler: Scheduler | None
    bot: Bot
    dp: Dispatcher
    health: Health | None
    """Readiness and metrics (``monitoring`` asked for): what the HTTP server answers."""
    feeds: FeedService | None = None
    approvals: ApprovalService | None = None
    """APPROVAL: the admins' decisions and /pending (present, and idle, when it is off)."""

    async def close(self) -> None:
        """Close the Bot API session and the database, once the front end has stopped."""
        await self.bot.session.close()
        await self.conn.close()


async def build_core(settings: Settings, observer: Observer = NO_OBSERVER) -> Core:
    """Open the database (StoreError when it cannot be) and the services on it."""
    conn = await open_db(settings.db_path)
    return Core(
        settings=settings,
        conn=conn,
        ingestor=Ingestor(
            conn, settings.seeds_dir, settings.source_tz, settle_seconds=settings.settle_seconds
        ),
        search=SearchService(
            conn, observer=observer, synonyms=synonyms_for(settings.synonyms_file)
        ),
        observer=observer,
    )


async def build_app(
    settings: Settings,
    *,
    session: Session,
    token: str | None = None,
    scheduler: bool = True,
    pacing: Pacing | None = None,
    clock: Callable[[], float] = time.time,
    monitoring: HealthPolicy | None = None,
    feed_http: HttpLimits | None = None,
    watch: bool = True,
) -> App:
    """Build the bot over ``session``; nothing talks to Telegram until the front end runs it.

    ``token`` defaults to BOT_TOKEN (aiogram's TokenValidationError when it is malformed).
    With ``scheduler`` the Dispatcher's startup starts the tick loop and the paced deliverer
    (``pacing``, default Telegram's limits) and its shutdown stops them after the handlers;
    with FEEDS the feed pollers start and stop with it (``feed_http``: the HTTP client's limits,
    default connect 10 s / total 30 s / 5 MB). ``clock`` is the wall clock the quiet hours are
    read on (tests stand at any hour). With ``monitoring`` every layer reports to one
    ``Metrics`` and ``App.health`` answers the HTTP server's /readyz and /metrics under that
    policy; without it nothing is counted. Raises ConfigError for a post template that cannot
    be used, StoreError when the database cannot be opened. With ``watch`` too, filesystem
    notifications on SEEDS_DIR wake the tick loop at once.
    """
    renderer, renderers = _post_renderer(settings)
    if settings.targets_file is not None and settings.channel_id:
        log.warning(
            "TARGETS_FILE %s is set: CHANNEL_ID (%s) is ignored, posts go to its %d target(s)",
            settings.targets_file,
            settings.channel_id,
            len(settings.targets),
        )
    metrics = None
    if monitoring is not None:  # prometheus_client is loaded only for a bot that serves metrics
        from bot.services.metrics import Metrics

        metrics = Metrics()
    core = await build_core(settings, NO_OBSERVER if metrics is None else metrics)
    try:
        health = None
        if metrics is not None:
            from bot.services.health import Health

            health = Health(
                core.conn, metrics, post_interval=settings.post_interval, policy=monitoring
            )
        return _build_telegram(
            core,
            session,
            token,
            scheduler,
            pacing,
            health,
            feed_http,
            (renderer, renderers),
            clock,
            watch,
        )
    except BaseException:
        await core.close()
        raise


def _post_renderer(settings: Settings) -> tuple[PostRenderer, dict[Path, PostRenderer]]:
    """POST_TEMPLATE checked on a sample article (the default without it), and each target's
    own template checked the same way (by path, for the publisher)."""
    from bot.telegram.templates import PostRenderer, TemplateProblem, default_renderer

    renderer = default_renderer()
    if settings.post_template is not None:
        try:
            renderer = PostRenderer.from_file(settings.post_template, settings.source_tz)
        except TemplateProblem as exc:
            raise ConfigError(f"POST_TEMPLATE {exc}") from None
    renderers: dict[Path, PostRenderer] = {}
    for i, target in enumerate(settings.targets, start=1):
        if target.template is None or target.template in renderers:
            continue
        try:
            renderers[target.template] = PostRenderer.from_file(
                target.template, settings.source_tz
            )
        except TemplateProblem as exc:
            raise ConfigError(
                f"TARGETS_FILE {settings.targets_file}: target {i} (chat {target.chat}): "
                f"template {exc}"
            ) from None
    return renderer, renderers


def targets_of(settings: Settings) -> tuple[Target, ...]:
    """TARGETS_FILE's targets when it is set (CHANNEL_ID is then ignored), else CHANNEL_ID."""
    if settings.targets_file is not None:
        return settings.targets
    return default_targets(settings.channel_id)


def _build_telegram(
    core: Core,
    session: Session,
    token: str | None,
    scheduler: bool,
    pacing: Pacing | None,
    health: Health | None,
    feed_http: HttpLimits | None,
    renderers: tuple[PostRenderer, dict[Path, PostRenderer]],
    clock: Callable[[], float],
    watch: bool,
) -> App:
    # Here, not at the top: importing aiogram takes seconds and ~165 MB (its pydantic models),
    # which the commands that need only the Core (ingest, search) should not pay.
    from bot.telegram import build_dispatcher, make_bot
    from bot.telegram.publisher import AiogramPublisher

    settings, conn, observer = core.settings, core.conn, core.observer
    renderer, target_renderers = renderers
    subscriptions = SubscriptionService(conn, core.search)
    targets = TargetRules(targets_of(settings), core.search)
    bot = make_bot(settings.bot_token.reveal() if token is None else token, session, observer)
    deliverer = None
    if scheduler:
        publisher = AiogramPublisher(
            bot,
            tz=settings.source_tz,
            renderer=renderer,
            renderers=target_renderers,
            utm=settings.utm_params,
        )
        deliverer = Deliverer(
            conn,
            publisher,
            pacing=pacing,
            admin_ids=settings.admin_ids,
            withdrawn_posts=settings.withdrawn_posts,
            observer=observer,
            targets=targets,
            quiet=settings.quiet_hours,
            quiet_mode=settings.quiet_mode,
            clock=clock,
        )
    wake = _nothing_to_wake if deliverer is None else deliverer.wake
    publishing = PublishingService(
        conn,
        ingestor=core.ingestor,
        subscriptions=subscriptions,
        channel_id=settings.channel_id,
        backlog=settings.post_backlog,
        on_queued=wake,
        feeds=settings.feeds,
        admin_ids=settings.admin_ids,
        withdrawn_posts=settings.withdrawn_posts,
        targets=targets,
        approval=_approval_policy(settings, clock),
    )
    approvals = ApprovalService(conn, publishing, publishing.approval, on_queued=wake)
    schedule = feeds = None
    if deliverer is not None:
        schedule = Scheduler(
            publishing,
            deliverer,
            interval=settings.post_interval,
            observer=observer,
            approvals=approvals,
        )
        if watch:
            schedule.also_run(Watcher(settings.seeds_dir, schedule.wake))
        if settings.feeds:
            feeds = _build_feeds(conn, settings, publishing, wake, feed_http)
    dp = build_dispatcher(
        settings,
        search=core.search,
        subscriptions=subscriptions,
        publishing=publishing,
        renderer=renderer,
        observer=observer,
        approvals=approvals,
    )
    if schedule is not None:
        _hook_scheduler(schedule, dp, bot, settings, feeds)
    return App(
        settings=settings,
        conn=conn,
        ingestor=core.ingestor,
        search=core.search,
        observer=observer,
        subscriptions=subscriptions,
        publishing=publishing,
        scheduler=schedule,
        bot=bot,
        dp=dp,
        health=health,
        feeds=feeds,
        approvals=approvals,
    )


def _approval_policy(settings: Settings, clock: Callable[[], float]) -> ApprovalPolicy | None:
    """APPROVAL=on: the admins decide, APPROVAL_TIMEOUT (minutes) and APPROVAL_DEFAULT."""
    if not settings.approval:
        return None
    timeout = settings.approval_timeout * 60.0
    return ApprovalPolicy(settings.admin_ids, timeout, settings.approval_default, clock)


def _build_feeds(
    conn: aiosqlite.Connection,
    settings: Settings,
    publishing: PublishingService,
    wake: Callable[[], None],
    limits: HttpLimits | None,
) -> FeedService:
    """The feed pollers (FEEDS): one HTTP client, the item store, admin notes via the outbox;
    what a poll adds is announced like a scan's new files. Imported only when FEEDS is set."""
    from bot.services.feed_items import FeedItems
    from bot.services.feeds import FeedService
    from bot.services.notes import AdminNotes
    from bot.sources.http import HttpClient

    http = HttpClient(limits=limits)
    return FeedService(
        conn,
        http,
        FeedItems(conn, http, settings.source_tz),
        settings.feeds,
        interval=settings.feed_interval,
        backlog=settings.post_backlog,
        notes=AdminNotes(conn, settings.admin_ids, on_queued=wake),
        on_added=publishing.announce,
    )


def _hook_scheduler(
    scheduler: Scheduler, dp: Dispatcher, bot: Bot, settings: Settings, feeds: FeedService | None
) -> None:
    """Start the scheduler (and the feed pollers) on dp.startup, stop them on dp.shutdown
    (after the handlers' hook)."""

    async def start_scheduler() -> None:
        await bot.me()  # the posts' deep links name the bot: fail the start early without it
        scheduler.start()
        log.info(
            "scheduler started: every %g s, target(s) %s, backlog %d",
            settings.post_interval,
            ", ".join(map(str, targets_of(settings))) or "not configured",
            settings.post_backlog,
        )
        if feeds is not None:
            feeds.start()
            log.info("polling %d feed(s) every %g s", len(feeds.feeds), feeds.interval)

    async def stop_scheduler() -> None:
        if feeds is not None:
            await feeds.stop()
        await scheduler.stop()

    dp.startup.register(start_scheduler)
    dp.shutdown.register(stop_scheduler)


def _nothing_to_wake() -> None:
    """Without a scheduler nothing sends on the bot's own, so queueing wakes nobody."""
