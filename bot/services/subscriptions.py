"""Subscriptions use cases: subscribe (all or by words), list, remove, and who gets an article."""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import aiosqlite

from bot.models import Subscription
from bot.store import outbox, subscribers
from bot.store.db import transaction, write_lock
from bot.text import fold

log = logging.getLogger(__name__)

MAX_PER_CHAT = 20
"""Subscriptions one reader may hold, so one chat cannot make every article's fan-out slow."""
MAX_QUERY_LEN = 200
"""Characters of a keyword subscription."""


class Matcher(Protocol):
    """The part of SearchService subscriptions need (same morphology as /search)."""

    async def search(self, query: str, page: int = 1, per_page: int = 5) -> object | None:
        """A page of results, or None when the query holds nothing to search for."""
        ...

    async def matches(self, article_id: int, query: str) -> bool: ...


class Outcome(enum.StrEnum):
    """How /subscribe went."""

    ADDED = enum.auto()
    EXISTS = enum.auto()
    NOTHING_TO_SEARCH = enum.auto()
    TOO_LONG = enum.auto()
    TOO_MANY = enum.auto()


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """The outcome and the normalised query it concerns ('' = every article)."""

    outcome: Outcome
    query: str


def normalize_query(words: str | None) -> str:
    """Collapse whitespace; '' means "every new article"."""
    return " ".join((words or "").split())


class SubscriptionService:
    """Keeps readers' subscriptions and decides which of them an article matches."""

    def __init__(self, conn: aiosqlite.Connection, search: Matcher) -> None:
        self.conn = conn
        self.search = search

    async def subscribe(self, chat_id: int, words: str | None = None) -> SubscribeResult:
        """Subscribe a private chat to every article or to articles matching ``words``."""
        query = normalize_query(words)
        if len(query) > MAX_QUERY_LEN:
            return SubscribeResult(Outcome.TOO_LONG, query)
        if query and await self.search.search(query, page=1, per_page=1) is None:
            return SubscribeResult(Outcome.NOTHING_TO_SEARCH, query)
        async with write_lock(self.conn):
            existing = await subscribers.for_chat(self.conn, chat_id)
            if any(fold(s.query) == fold(query) for s in existing):
                return SubscribeResult(Outcome.EXISTS, query)
            if len(existing) >= MAX_PER_CHAT:
                return SubscribeResult(Outcome.TOO_MANY, query)
            await subscribers.add(self.conn, chat_id, query, now=time.time())
        log.info("chat %s subscribed to %r", chat_id, query or "*")
        return SubscribeResult(Outcome.ADDED, query)

    async def list(self, chat_id: int) -> list[Subscription]:
        """This chat's subscriptions, oldest first."""
        return await subscribers.for_chat(self.conn, chat_id)

    async def remove(self, chat_id: int, subscription_id: int) -> bool:
        """Remove one of this chat's subscriptions."""
        async with write_lock(self.conn):
            return await subscribers.remove(self.conn, chat_id, subscription_id)

    async def unsubscribe_all(self, chat_id: int) -> int:
        """Remove every subscription of this chat and drop the alerts still queued for it."""
        async with transaction(self.conn):
            removed = await subscribers.remove_all(self.conn, chat_id)
            await outbox.cancel_chat(self.conn, str(chat_id), reason="unsubscribed")
        return removed

    async def counts(self) -> tuple[int, int]:
        """(subscribed chats, subscriptions)."""
        return await subscribers.counts(self.conn)

    async def everyone(self) -> list[Subscription]:
        """Every subscription (load once per queueing run)."""
        return await subscribers.everyone(self.conn)

    async def recipients(self, article_id: int, subs: list[Subscription]) -> list[int]:
        """Chats that should get this article: each chat once, however many queries match."""
        chats: set[int] = set()
        verdict: dict[str, bool] = {}
        for sub in subs:
            if sub.chat_id in chats:
                continue
            if not sub.query:
                chats.add(sub.chat_id)
                continue
            if sub.query not in verdict:
                verdict[sub.query] = await self._matches(article_id, sub.query)
            if verdict[sub.query]:
                chats.add(sub.chat_id)
        return sorted(chats)

    async def _matches(self, article_id: int, query: str) -> bool:
        try:
            return await self.search.matches(article_id, query)
        except Exception:  # one odd query must not stop the article reaching everyone else
            log.exception("matching article %d against %r failed", article_id, query)
            return False
