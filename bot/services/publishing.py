"""What gets published: queue new articles for the channel and subscribers, /post, pause, stats.

Sending, pacing and retries live in ``bot.services.scheduler``; this module decides *what* goes
into the outbox, atomically with marking the articles announced. The ``Publisher`` protocol the
telegram layer implements, and its refusals, are in ``bot.services.sending``.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiosqlite

from bot.config import WithdrawnPosts
from bot.models import IngestReport, Subscription, Target
from bot.services import followups
from bot.services.approval import ApprovalPolicy, hold
from bot.services.search import MAX_ID
from bot.services.subscriptions import SubscriptionService
from bot.services.targets import (
    ResumeOutcome,
    TargetRules,
    TargetStatus,
    resume_target,
    target_status,
)
from bot.store import approvals, articles, outbox, state
from bot.store import followups as followups_store
from bot.store import targets as targets_store
from bot.store.db import transaction, write_lock
from bot.store.feeds import FeedState, feed_states
from bot.store.followups import CorrectionStats
from bot.store.outbox import OutboxStats
from bot.targets import default_targets

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Queued:
    """How many deliveries one queueing run added."""

    channel: int = 0
    subscribers: int = 0
    articles: int = 0
    previews: int = 0
    """Approval previews to admins (APPROVAL=on: posts wait for a decision)."""

    @property
    def total(self) -> int:
        return self.channel + self.subscribers + self.previews


@dataclass(frozen=True, slots=True)
class TickResult:
    """One scheduler tick or /reload: the scan report and what was queued."""

    report: IngestReport
    queued: Queued


@dataclass(frozen=True, slots=True)
class PublishingStatus:
    """Everything /stats shows."""

    articles: int
    outbox: OutboxStats
    subscribers: int
    subscriptions: int
    channel: str | None
    paused: str | None
    corrections: CorrectionStats
    feeds: tuple[FeedState, ...] = ()
    """Each configured feed's health (FEEDS), in the configured order."""
    targets: tuple[TargetStatus, ...] = ()
    """Each target's counts (configured ones in the file's order, then any older chat)."""
    pending_approvals: int | None = None
    """Articles waiting for an admin's decision (None: APPROVAL is off and none wait)."""


class PostOutcome(enum.StrEnum):
    """What /post <id> did."""

    QUEUED = enum.auto()
    NO_CHANNEL = enum.auto()
    NOT_FOUND = enum.auto()


class Scanner(Protocol):
    """The ingest service (``Ingestor.scan``)."""

    async def scan(self) -> IngestReport: ...


class PublishingService:
    """Queues articles into the outbox and controls channel posting; the deliverer sends them."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        ingestor: Scanner,
        subscriptions: SubscriptionService,
        channel_id: str | None,
        backlog: int,
        on_queued: Callable[[], None] = lambda: None,
        feeds: tuple[str, ...] = (),
        admin_ids: frozenset[int] = frozenset(),
        withdrawn_posts: WithdrawnPosts = "notice",
        targets: TargetRules | None = None,
        approval: ApprovalPolicy | None = None,
    ) -> None:
        self.conn = conn
        self.approval = approval
        """APPROVAL=on: new articles get previews to the admins instead of posts."""
        self.targets = targets or TargetRules(default_targets(channel_id), subscriptions.search)
        """Where channel posts go (TARGETS_FILE, or CHANNEL_ID alone) and their rules."""
        self.admin_ids = admin_ids
        self.withdrawn_posts = withdrawn_posts
        self.ingestor = ingestor
        self.subscriptions = subscriptions
        self.channel_id = channel_id
        self.backlog = backlog
        self.on_queued = on_queued
        """Called when there is something new to send (the deliverer's ``wake``)."""
        self.feeds = feeds
        """The configured feed URLs (FEEDS), whose health /stats shows."""

    async def channel_chat(self) -> str | None:
        """The first target's chat id now (after any recorded migration), None without any."""
        if not self.targets.targets:
            return None
        return await state.resolve_chat(self.conn, self.targets.targets[0].chat)

    async def _chat_of(self, target: Target) -> str:
        return await state.resolve_chat(self.conn, target.chat)

    async def tick(self) -> TickResult:
        """Scan the seeds folder, queue what is new and what changed, wake the deliverer."""
        report = await self.ingestor.scan()
        return TickResult(report, await self.announce())

    async def announce(self) -> Queued:
        """Queue what is new (from any source) and wake the deliverer if anything was."""
        queued = await self.queue_new()
        if queued.total + await self.queue_followups():
            self.on_queued()
        return queued

    async def queue_followups(self) -> int:
        """Queue what corrections, withdrawals and returns need (edits, notes); how many rows."""
        return await followups.queue_followups(
            self.conn, admin_ids=self.admin_ids, keep_withdrawn=self.withdrawn_posts == "keep"
        )

    async def queue_new(self) -> Queued:
        """Queue every unannounced article (oldest first) and mark it announced, atomically.

        On a fresh database (no ``backlog_done`` state) every article is marked announced but
        only the newest ``backlog`` are queued.
        """
        n_channel = n_subs = n_previews = 0
        async with transaction(self.conn):
            pending = await outbox.unannounced(self.conn)
            fresh = await state.get(self.conn, state.BACKLOG_DONE) is None
            visible = [aid for aid, withdrawn in pending if not withdrawn]
            chosen = visible
            if fresh:
                chosen = visible[len(visible) - self.backlog :] if self.backlog > 0 else []
            subs = await self.subscriptions.everyone() if chosen and not self.approval else []
            now = time.time()
            for aid in chosen:
                if self.approval is not None:  # posted once an admin (or the timeout) decides
                    n_previews += await hold(self.conn, self.approval, aid)
                    continue
                queued = await self._queue_article(aid, subs, now=now)
                n_channel += queued.channel
                n_subs += queued.subscribers
            await outbox.mark_announced(self.conn, [aid for aid, _ in pending])
            if fresh:
                await state.put(self.conn, state.BACKLOG_DONE, "1")
        if pending:
            log.info(
                "announced %d article(s)%s: queued %d channel post(s), %d subscriber alert(s)",
                len(pending),
                " (first run: backlog)" if fresh else "",
                n_channel,
                n_subs,
            )
        return Queued(n_channel, n_subs, len(chosen), n_previews)

    async def release(self, article_id: int, *, silent: bool = False) -> Queued:
        """Queue one announced article's channel posts and subscriber alerts now (an approval
        decided «publish»); the caller holds the transaction."""
        subs = await self.subscriptions.everyone()
        return await self._queue_article(article_id, subs, now=time.time(), silent=silent)

    async def _queue_article(
        self, article_id: int, subs: list[Subscription], *, now: float, silent: bool = False
    ) -> Queued:
        """The outbox rows one article gets: a post for every target whose rules it matches
        (once per target), and its subscribers' alerts."""
        n_channel = n_subs = 0
        for target in await self.targets.for_article(article_id):
            chat = await self._chat_of(target)
            if await outbox.enqueue(
                self.conn, article_id, chat, "channel", now=now, topic=target.topic, silent=silent
            ):
                n_channel += 1
        for chat in await self.subscriptions.recipients(article_id, subs):
            if await outbox.enqueue(
                self.conn, article_id, str(chat), "subscriber", now=now, silent=silent
            ):
                n_subs += 1
        return Queued(n_channel, n_subs, 1)

    async def post(
        self, article_id: int, *, pin: bool = False, silent: bool = False
    ) -> PostOutcome:
        """Post an article now on purpose (/post): to every target, keywords ignored (the
        editor chose it), ahead of each target's paced queue, optionally pinned and silent."""
        if not self.targets.targets:
            return PostOutcome.NO_CHANNEL
        if not 0 < article_id <= MAX_ID:  # past SQLite's integers: just not there
            return PostOutcome.NOT_FOUND
        if await articles.get_article(self.conn, article_id) is None:
            return PostOutcome.NOT_FOUND
        now = time.time()
        async with write_lock(self.conn):
            for target in self.targets.targets:
                chat = await self._chat_of(target)
                await outbox.enqueue(
                    self.conn,
                    article_id,
                    chat,
                    "channel",
                    now=now,
                    manual=True,
                    topic=target.topic,
                    silent=silent,
                    pin=pin,
                    priority=1,
                )
        log.info(
            "article %d posted by hand to %d target(s)%s%s",
            article_id,
            len(self.targets.targets),
            ", pinned" if pin else "",
            ", silently" if silent else "",
        )
        self.on_queued()
        return PostOutcome.QUEUED

    async def pause(self, reason: str) -> None:
        """Stop channel posting; the queue is kept."""
        async with write_lock(self.conn):
            await state.set_paused(self.conn, reason)
        log.warning("channel posting paused: %s", reason)

    async def resume(self) -> bool:
        """Resume channel posting and every target paused alone; False when none was paused."""
        async with write_lock(self.conn):
            was = await state.paused(self.conn)
            await state.set_paused(self.conn, None)
            targets = await targets_store.resume(self.conn)
        if was is not None or targets:
            log.info("channel posting resumed (%d target(s) paused alone)", targets)
        self.on_queued()
        return was is not None or targets > 0

    async def resume_target(self, chat: str, topic: int | None) -> ResumeOutcome:
        """Resume one target paused alone (/resume <chat> [topic])."""
        outcome = await resume_target(self.conn, self.targets, chat, topic)
        if outcome is ResumeOutcome.RESUMED:
            self.on_queued()
        return outcome

    async def status(self) -> PublishingStatus:
        """Counts and channel state for /stats."""
        chats, subs = await self.subscriptions.counts()
        return PublishingStatus(
            articles=await articles.count_visible(self.conn),
            outbox=await outbox.stats(self.conn),
            subscribers=chats,
            subscriptions=subs,
            channel=await self.channel_chat(),
            paused=await state.paused(self.conn),
            corrections=await followups_store.correction_stats(self.conn),
            feeds=tuple(await feed_states(self.conn, list(self.feeds))),
            targets=await target_status(self.conn, self.targets),
            pending_approvals=await self._pending_approvals(),
        )

    async def _pending_approvals(self) -> int | None:
        n = await approvals.count_pending(self.conn)
        return n if n or self.approval is not None else None
