"""Which targets an article goes to: every target without keywords, and those whose keywords
match it with the same stemmed matching as keyword subscriptions (any keyword is enough); and
each target's state for /stats and /resume <chat> [topic]."""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.models import Target
from bot.services.subscriptions import Matcher
from bot.store import state
from bot.store import targets as store
from bot.store.db import write_lock
from bot.store.targets import TargetCounts, target_key

log = logging.getLogger(__name__)


class TargetRules:
    """The targets of this run (TARGETS_FILE or CHANNEL_ID) and their keyword rules."""

    def __init__(self, targets: Sequence[Target], search: Matcher) -> None:
        self.targets = tuple(targets)
        self.search = search
        self._by_key = {t.key: t for t in self.targets}

    def find(self, chat_id: str, topic: int | None) -> Target | None:
        """The configured target an outbox row goes to (None: a chat no longer configured);
        a migrated group's rows carry its new id (see ``moved``)."""
        return self._by_key.get((chat_id.lower(), topic))

    def moved(self, old: str, new: str) -> None:
        """A chat migrated (group → supergroup): its targets' rows now carry ``new``, and
        keep their template and silence."""
        for target in self.targets:
            if target.chat.lower() == old.lower():
                self._by_key.setdefault((new.lower(), target.topic), target)

    async def follow_migrations(self, conn: aiosqlite.Connection) -> None:
        """At start: the migrations recorded before (``moved`` for each)."""
        for target in self.targets:
            now = await state.resolve_chat(conn, target.chat)
            if now != target.chat:
                self.moved(target.chat, now)

    async def for_article(self, article_id: int) -> tuple[Target, ...]:
        """The targets that get this article, in the file's order."""
        verdict: dict[str, bool] = {}
        chosen: list[Target] = []
        for target in self.targets:
            if not target.keywords:
                chosen.append(target)
                continue
            for keyword in target.keywords:
                if keyword not in verdict:
                    verdict[keyword] = await self._matches(article_id, keyword)
                if verdict[keyword]:
                    chosen.append(target)
                    break
        return tuple(chosen)

    async def _matches(self, article_id: int, keyword: str) -> bool:
        try:
            return await self.search.matches(article_id, keyword)
        except Exception:  # one odd keyword must not keep the article from the other targets
            log.exception("matching article %d against keyword %r failed", article_id, keyword)
            return False


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One target in /stats."""

    chat: str
    topic: int | None
    counts: TargetCounts
    paused: str | None = None


class ResumeOutcome(enum.StrEnum):
    """What /resume <chat> [topic] did."""

    RESUMED = enum.auto()
    NOT_PAUSED = enum.auto()
    UNKNOWN_TARGET = enum.auto()


async def target_status(
    conn: aiosqlite.Connection, rules: TargetRules
) -> tuple[TargetStatus, ...]:
    """Each configured target's counts and pause, then chats with rows but no target now."""
    counts = await store.counts(conn)
    paused = await store.paused(conn)
    out: list[TargetStatus] = []
    for target in rules.targets:
        where = (await state.resolve_chat(conn, target.chat), target.topic)
        reason = paused.get(target_key(*where))
        out.append(TargetStatus(*where, counts.pop(where, TargetCounts()), reason))
    for (chat, topic), c in counts.items():
        out.append(TargetStatus(chat, topic, c, paused.get(target_key(chat, topic))))
    return tuple(out)


async def resume_target(
    conn: aiosqlite.Connection, rules: TargetRules, chat: str, topic: int | None
) -> ResumeOutcome:
    """Resume one target paused alone."""
    target = rules.find(chat, topic)
    if target is None:
        return ResumeOutcome.UNKNOWN_TARGET
    key = target_key(await state.resolve_chat(conn, target.chat), target.topic)
    async with write_lock(conn):
        resumed = await store.resume(conn, key)
    if not resumed:
        return ResumeOutcome.NOT_PAUSED
    log.info("target %s resumed", target)
    return ResumeOutcome.RESUMED
