"""Approval before posting (APPROVAL=on): new articles wait for the first admin's decision.

``hold`` (called by PublishingService.queue_new, in its transaction) records a pending approval
and queues one preview per admin through the outbox. ``decide`` settles it in one transaction:
the guarded UPDATE picks the one winner, the posts and alerts are queued (``release``), and
every admin's preview gets a follow-up edit that shows who decided what. ``expire`` (on the
tick) applies APPROVAL_DEFAULT to approvals past APPROVAL_TIMEOUT. Everything is in the
database, so a restart changes nothing: the buttons keep working.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiosqlite

from bot.config import ApprovalDefault
from bot.store import approvals as store
from bot.store import articles, outbox
from bot.store.approvals import Approval, Waiting
from bot.store.db import transaction, write_lock
from bot.store.followups import queue_one

if TYPE_CHECKING:
    from bot.services.publishing import PublishingService

log = logging.getLogger(__name__)

ACTIONS = {"p": "published", "s": "silent", "x": "skipped"}
"""A button's action letter (callback data ``ap:<id>:<letter>``) → the decided status."""
DEFAULTS: dict[ApprovalDefault, str] = {"publish": "published", "skip": "skipped"}
LANG_EVERY = 60.0
"""Seconds between two writes of one admin's language (it costs nothing per update)."""


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """APPROVAL=on: who decides, how long they get, and what the timeout decides."""

    admin_ids: frozenset[int]
    timeout: float = 0.0
    """Seconds (0: wait for a decision however long it takes)."""
    default: ApprovalDefault = "publish"
    clock: Callable[[], float] = field(default=time.time)


async def hold(conn: aiosqlite.Connection, policy: ApprovalPolicy, article_id: int) -> int:
    """A pending approval and one preview per admin (caller holds the transaction); returns
    how many previews were queued."""
    now = policy.clock()
    deadline = now + policy.timeout if policy.timeout > 0 else None
    if not await store.create(conn, article_id, now=now, deadline=deadline):
        return 0
    queued = 0
    for admin in sorted(policy.admin_ids):
        queued += await outbox.enqueue(conn, article_id, str(admin), "preview", now=now)
    log.info("article %d waits for approval: %d preview(s) queued", article_id, queued)
    return queued


class Outcome(enum.StrEnum):
    """What one press did."""

    DECIDED = enum.auto()
    ALREADY = enum.auto()
    """Someone decided first: ``Decision.approval`` says who and what."""
    WITHDRAWN = enum.auto()
    """The article was withdrawn while pending: nothing can be decided until it is back."""
    UNKNOWN = enum.auto()


@dataclass(frozen=True, slots=True)
class Decision:
    """A press's outcome and the approval as it stands after it."""

    outcome: Outcome
    approval: Approval | None = None


class ApprovalService:
    """Decides approvals (admins' presses, the timeout) and lists the pending ones."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        publishing: PublishingService,
        policy: ApprovalPolicy | None,
        *,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.conn = conn
        self.publishing = publishing
        self.policy = policy
        self.on_queued = on_queued
        self.clock = policy.clock if policy is not None else time.time
        self._langs: dict[int, float] = {}

    async def decide(
        self, article_id: int, action: str, admin_id: int | None, name: str | None
    ) -> Decision:
        """The press of one admin (or the timeout: ``admin_id`` None), in one transaction."""
        status = ACTIONS.get(action)
        if status is None:
            return Decision(Outcome.UNKNOWN)
        now = self.clock()
        async with transaction(self.conn):
            approval = await store.get(self.conn, article_id)
            article = await articles.get_article_any(self.conn, article_id)
            if approval is None or article is None:
                return Decision(Outcome.UNKNOWN)
            if approval.pending and article.withdrawn:
                return Decision(Outcome.WITHDRAWN, approval)
            won = await store.decide(
                self.conn, article_id, status, by=admin_id, decider=name, now=now
            )
            if not won:
                return Decision(Outcome.ALREADY, approval)
            if status != "skipped":
                await self.publishing.release(article_id, silent=status == "silent")
            for row in await store.preview_rows(self.conn, article_id):
                await queue_one(self.conn, row, now=now)
            decided = await store.get(self.conn, article_id)
        log.info(
            "article %d %s by %s", article_id, status, "timeout" if admin_id is None else admin_id
        )
        self.on_queued()
        return Decision(Outcome.DECIDED, decided)

    async def expire(self) -> int:
        """Decide every approval past its deadline with APPROVAL_DEFAULT; how many."""
        if self.policy is None or self.policy.timeout <= 0:
            return 0
        letter = "p" if self.policy.default == "publish" else "x"
        done = 0
        for article_id in await store.expired(self.conn, self.clock()):
            decision = await self.decide(article_id, letter, None, None)
            done += decision.outcome is Outcome.DECIDED
        return done

    async def waiting(self) -> list[Waiting]:
        """The articles waiting for a decision (/pending), oldest first."""
        return await store.waiting(self.conn)

    async def count_pending(self) -> int:
        return await store.count_pending(self.conn)

    async def saw_admin(self, user_id: int, language_code: str | None) -> None:
        """An admin's update arrived: remember their language (at most once a minute each)."""
        now = time.monotonic()
        last = self._langs.get(user_id)
        if last is not None and now - last < LANG_EVERY:
            return
        self._langs[user_id] = now
        async with write_lock(self.conn):
            await store.saw_admin(self.conn, user_id, language_code, now=time.time())
